import { MainMenu } from '../../components/MainMenu.js';
import { plural } from '../../format.js';
import type { OrganiserNav } from './organiser-screens.js';

export interface OrganiserMenuProps {
  nav: OrganiserNav;
  /** The highlight, kept by the app so it is where it was left when the organiser comes back. */
  index: number;
  onIndexChange: (index: number) => void;
  eventCount: number;
  /** Inside `boxoffice serve` the log is the server's and Quit stops it. */
  local: boolean;
}

export function OrganiserMenu({ nav, index, onIndexChange, eventCount, local }: OrganiserMenuProps) {
  return (
    <MainMenu
      title="Main menu"
      items={[
        { label: 'Events', description: `${plural(eventCount, 'event')}, live` },
        { label: 'Add Event' },
        { label: 'Logs', description: local ? "the server's log" : "this admin session's log" },
        { label: 'Check-in', description: 'doors, scans, conflicts, attendee list' },
        { label: 'Quit', description: local ? 'stop the server gracefully' : undefined },
      ]}
      onQuit={() => nav.quit()}
      initialIndex={index}
      onSelect={(i) => {
        onIndexChange(i);
        if (i === 0) nav.go({ name: 'events' });
        else if (i === 1) nav.go({ name: 'add', busy: false });
        else if (i === 2) nav.go({ name: 'logs' });
        else if (i === 3) nav.go({ name: 'checkin-events' });
        else nav.quit();
      }}
    />
  );
}
