/** The buyer's cancel form: booking id and secret, both required; pre-filled; busy and refused states. */
import { cleanup } from 'ink-testing-library';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CancelBookingForm, type CancelRequest } from '../../src/tui/components/CancelBookingForm.js';
import { frame, KEYS, press, renderUi, settle } from './helpers.js';

afterEach(cleanup);

const ID = '00000000-0000-4000-8000-00000000000b';

describe('CancelBookingForm', () => {
  it('needs both fields: submitting empty ones says so and goes back to the first', async () => {
    const onSubmit = vi.fn<(r: CancelRequest) => void>();
    const r = renderUi(<CancelBookingForm onSubmit={onSubmit} onCancel={() => {}} />);
    await frame(r, '› Booking id');
    press(r, KEYS.tab, KEYS.tab);
    await frame(r, '›  Cancel booking');
    press(r, KEYS.enter);
    const f = await frame(r, 'Booking id is required.');
    expect(f).toContain('Secret is required.');
    expect(f).toContain('› Booking id');
    await settle();
    expect(onSubmit).not.toHaveBeenCalled();
    press(r, ` ${ID} `, KEYS.enter, 'the-secret', KEYS.enter);
    await frame(r, '›  Cancel booking');
    press(r, KEYS.enter);
    // The button only asks; "Yes" submits.
    await frame(r, `Cancel booking ${ID}?`);
    press(r, KEYS.right, KEYS.enter);
    await vi.waitFor(() => expect(onSubmit).toHaveBeenCalledWith({ bookingId: ID, secret: 'the-secret' }));
  });

  it('pre-filled: opens on the first field, and Enter pressed again and again never cancels', async () => {
    const onSubmit = vi.fn<(r: CancelRequest) => void>();
    const onCancel = vi.fn();
    const r = renderUi(<CancelBookingForm onSubmit={onSubmit} onCancel={onCancel} initial={{ bookingId: ID, secret: 's3cret' }} />);
    const f = await frame(r, `› Booking id`);
    expect(f).toMatch(new RegExp(`Booking id\\s+${ID}`));
    expect(f).toMatch(/Secret\s+s3cret/);
    expect(f).not.toContain('›  Cancel booking');
    // Field, field, button, the prompt (focus on "No"), back to the form, the prompt again…
    press(r, KEYS.enter, KEYS.enter, KEYS.enter);
    let asked = await frame(r, `⚠ Cancel booking ${ID}?`);
    expect(asked).toContain('All its tickets go back on sale. This cannot be undone.');
    expect(asked).toMatch(/› {2}No, keep it {2}/);
    press(r, KEYS.enter);
    await frame(r, (t) => !t.includes('⚠ Cancel booking') && t.includes('›  Cancel booking'));
    press(r, KEYS.enter, KEYS.enter, KEYS.enter);
    await settle();
    expect(onSubmit).not.toHaveBeenCalled();
    // `n` and Esc back out of the prompt too; `y` (or "Yes") cancels.
    asked = await frame(r, `⚠ Cancel booking ${ID}?`);
    press(r, 'n');
    await frame(r, (t) => !t.includes('⚠ Cancel booking'));
    press(r, KEYS.enter);
    await frame(r, `⚠ Cancel booking ${ID}?`);
    press(r, KEYS.escape);
    await frame(r, (t) => !t.includes('⚠ Cancel booking'));
    expect(onCancel).not.toHaveBeenCalled();
    press(r, KEYS.enter);
    await frame(r, `⚠ Cancel booking ${ID}?`);
    press(r, 'y');
    await vi.waitFor(() => expect(onSubmit).toHaveBeenCalledWith({ bookingId: ID, secret: 's3cret' }));
    expect(onSubmit).toHaveBeenCalledTimes(1);
    press(r, KEYS.escape);
    await vi.waitFor(() => expect(onCancel).toHaveBeenCalledTimes(1));
  });

  it('shows a spinner while busy (keys ignored) and the server’s refusal', async () => {
    const onSubmit = vi.fn();
    const r = renderUi(<CancelBookingForm onSubmit={onSubmit} onCancel={() => {}} busy initial={{ bookingId: ID, secret: 's' }} />);
    await frame(r, 'Cancelling…');
    press(r, KEYS.enter);
    await settle();
    expect(onSubmit).not.toHaveBeenCalled();
    r.rerender(<CancelBookingForm onSubmit={onSubmit} onCancel={() => {}} error="That secret does not match this booking." initial={{ bookingId: ID, secret: 's' }} />);
    await frame(r, '✘ That secret does not match this booking.');
  });

  it('hides the server’s refusal once a field is edited (it was about what was sent), and shows the next one', async () => {
    const onSubmit = vi.fn();
    const props = { onSubmit, onCancel: () => {}, initial: { bookingId: ID, secret: 'wrong' } };
    const r = renderUi(<CancelBookingForm {...props} error="That secret does not match this booking." />);
    await frame(r, '✘ That secret does not match this booking.');
    press(r, KEYS.down, KEYS.backspace);
    await frame(r, (f) => !f.includes('✘ That secret') && /Secret\s+wron\b/.test(f));
    press(r, 'g', KEYS.enter, KEYS.enter);
    await frame(r, '⚠ Cancel booking');
    press(r, 'y');
    await vi.waitFor(() => expect(onSubmit).toHaveBeenCalledWith({ bookingId: ID, secret: 'wrong' }));
    // The same refusal again, for the new request: shown.
    r.rerender(<CancelBookingForm {...props} error="That secret does not match this booking." />);
    await frame(r, '✘ That secret does not match this booking.');
  });
});
