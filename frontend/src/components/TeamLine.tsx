// One team the person is in, with who manages it (that person sees their
// progress) and whether the company's provisioning put them there.
import type { MyTeam } from '../types';

/** "Dana Reyes's team, managed by Dana Reyes · added by your company": which team, who sees the person's progress, and how they came to be in it. */
export function TeamLine({ team }: { team: MyTeam }) {
  return (
    <>
      <span class="team-name">{team.name}</span>
      {(team.manager_name || team.provisioned) && (
        <span class="team-line">
          <span class="visually-hidden">, </span>
          {[team.manager_name ? `managed by ${team.manager_name}` : '', team.provisioned ? 'added by your company' : ''].filter(Boolean).join(' · ')}
        </span>
      )}
    </>
  );
}
