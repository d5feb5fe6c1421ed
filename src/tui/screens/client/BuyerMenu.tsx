import { Text } from 'ink';
import { MainMenu } from '../../components/MainMenu.js';
import type { BuyerNav } from './buyer-screens.js';

const ITEMS = [
  { label: 'Events', description: 'browse and book' },
  { label: 'Cancel a booking', description: 'with its id and secret' },
  { label: 'Logs', description: "this client's log" },
  { label: 'Quit' },
];

export interface BuyerMenuProps {
  nav: BuyerNav;
  /** The highlight, kept by the app so it is where it was left when the buyer comes back. */
  index: number;
  onIndexChange: (index: number) => void;
  /** Until the first list arrives, the menu says it is still coming. */
  loaded: boolean;
}

export function BuyerMenu({ nav, index, onIndexChange, loaded }: BuyerMenuProps) {
  return (
    <>
      <MainMenu
        title="Main menu"
        items={ITEMS}
        onQuit={() => nav.quit()}
        initialIndex={index}
        onSelect={(i) => {
          onIndexChange(i);
          if (i === 0) nav.go({ name: 'events' });
          else if (i === 1) nav.go({ name: 'cancel', busy: false });
          else if (i === 2) nav.go({ name: 'logs' });
          else nav.quit();
        }}
      />
      {!loaded && <Text color="gray">Loading events…</Text>}
    </>
  );
}
