// Field messages from the API are fragments ("must be at least 12
// characters") so that a client can place them; on screen they read as
// sentences that name the field.

/** "must be at least 12 characters" under "Password" → "Password must be at least 12 characters." */
export function fieldSentence(label: string, message: string): string {
  const m = message.trim();
  if (!m) return '';
  const first = m.charAt(0);
  const sentence = first === first.toLowerCase() && first !== first.toUpperCase() ? `${label.trim()} ${m}` : m;
  return /[.!?]$/.test(sentence) ? sentence : `${sentence}.`;
}
