import { useState } from 'preact/hooks';
import { errorMessage, resendVerification } from '../api';
import { useVerified } from '../verification';

/** Asks a signed-in person whose address is not verified yet to open the emailed link. */
export function VerifyBanner({ userId, email }: { userId: string; email: string }) {
  const verified = useVerified(userId);
  const [note, setNote] = useState('');
  if (verified !== false) return null;
  async function resend() {
    try {
      await resendVerification();
      setNote(`A new link is on its way to ${email}.`);
    } catch (err) {
      setNote(errorMessage(err));
    }
  }
  return (
    <section class="verify-banner" aria-label="Email verification">
      <p>
        Please verify your email address: open the link we sent to <strong>{email}</strong>.
      </p>
      {note ? (
        <p role="status">{note}</p>
      ) : (
        <button type="button" class="btn btn-secondary btn-sm" onClick={resend}>
          Send a new link
        </button>
      )}
    </section>
  );
}
