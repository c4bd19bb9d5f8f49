import { Badge } from './ui';

// LookalikeWarning marks an account whose email mixes alphabets (a Cyrillic
// "а" among Latin letters, say) and so could pass for someone else's. The
// server decides (the `lookalike` field); this only says so, in words.
export function LookalikeWarning({ lookalike }: { lookalike?: boolean }) {
  if (!lookalike) return null;
  return (
    <span class="lookalike" data-testid="lookalike">
      <Badge tone="warning">
        <span aria-hidden="true">⚠</span> Look-alike email
      </Badge>
      <span class="small warning-text">This address mixes alphabets, so it can look like someone else's. Check who this is before trusting it.</span>
    </span>
  );
}
