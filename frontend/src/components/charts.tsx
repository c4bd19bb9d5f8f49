import type { Skills } from '../types';

export const SKILLS: { key: keyof Skills; label: string; short: string }[] = [
  { key: 'vision', label: 'Vision & narrative', short: 'Vision' },
  { key: 'alignment', label: 'Cross-functional alignment', short: 'Alignment' },
  { key: 'inspiration', label: 'Inspiration over direction', short: 'Inspiration' },
];

const clamp = (n: number) => Math.max(0, Math.min(100, Math.round(Number(n) || 0)));

/** Horizontal SVG bars for the three skills, with the values as text. */
export function SkillChart({ skills, title = 'Skill profile' }: { skills: Skills; title?: string }) {
  const summary = SKILLS.map((s) => `${s.label} ${clamp(skills[s.key])}%`).join(', ');
  return (
    <figure class="skill-chart" aria-label={`${title}: ${summary}`} role="group">
      {SKILLS.map((s) => {
        const v = clamp(skills[s.key]);
        return (
          <div key={s.key} class={`skill-row skill-${s.key}`} data-skill={s.key}>
            <div class="skill-row-head">
              <span class="skill-label">{s.label}</span>
              <span class="skill-value">{v}%</span>
            </div>
            <svg class="skill-svg" viewBox="0 0 100 10" preserveAspectRatio="none" aria-hidden="true" focusable="false">
              <rect class="skill-track" x="0" y="0" width="100" height="10" />
              <rect class="skill-bar" x="0" y="0" width={v} height="10" />
            </svg>
          </div>
        );
      })}
    </figure>
  );
}

export interface HistoryPoint {
  at: string;
  quiz: string;
  skills: Skills;
}

/** Skill scores over time as small multiples: one line chart per skill, one point per finished attempt. */
export function SkillHistoryChart({ history, quizTitle }: { history: HistoryPoint[]; quizTitle?: (slug: string) => string }) {
  const points = [...history].sort((a, b) => a.at.localeCompare(b.at));
  if (points.length === 0) return <p class="empty">Finish a scenario to start your skill history.</p>;
  return (
    <figure class="history-chart">
      <div class="multiples">
        {SKILLS.map((s) => (
          <MiniLine key={s.key} skill={s} points={points} />
        ))}
      </div>
      <figcaption>
        <p class="muted small">
          {points.length} finished attempt{points.length === 1 ? '' : 's'}, oldest on the left.
        </p>
        <details class="chart-data">
          <summary>Show the numbers</summary>
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Finished</th>
                  <th scope="col">Scenario</th>
                  {SKILLS.map((s) => (
                    <th scope="col" key={s.key}>
                      {s.short}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {points.map((p, i) => (
                  <tr key={i}>
                    <td>{new Date(p.at).toLocaleString()}</td>
                    <td>{quizTitle ? quizTitle(p.quiz) : p.quiz}</td>
                    {SKILLS.map((s) => (
                      <td key={s.key}>{clamp(p.skills[s.key])}%</td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </details>
      </figcaption>
    </figure>
  );
}

function MiniLine({ skill, points }: { skill: (typeof SKILLS)[number]; points: HistoryPoint[] }) {
  const W = 300;
  const H = 150;
  const pad = { l: 30, r: 10, t: 10, b: 24 };
  const iw = W - pad.l - pad.r;
  const ih = H - pad.t - pad.b;
  const x = (i: number) => pad.l + (points.length === 1 ? iw / 2 : (iw * i) / (points.length - 1));
  const y = (v: number) => pad.t + ih - (ih * clamp(v)) / 100;
  const fmt = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short' });
  const values = points.map((p) => clamp(p.skills[skill.key]));
  const latest = values[values.length - 1];
  const first = points[0];
  const last = points[points.length - 1];
  return (
    <div class={`mini series-${skill.key}`}>
      <p class="mini-head">
        <span class="mini-label">{skill.label}</span>
        <span class="mini-value">{latest}%</span>
      </p>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`${skill.label} over ${points.length} finished attempts: ${values.map((v) => `${v}%`).join(', ')}`}>
        {[0, 50, 100].map((g) => (
          <g key={g}>
            <line x1={pad.l} x2={W - pad.r} y1={y(g)} y2={y(g)} class="grid" />
            <text x={pad.l - 6} y={y(g) + 4} text-anchor="end" class="axis">
              {g}
            </text>
          </g>
        ))}
        <text x={pad.l} y={H - 6} text-anchor="start" class="axis">
          {fmt.format(new Date(first.at))}
        </text>
        {points.length > 1 && (
          <text x={W - pad.r} y={H - 6} text-anchor="end" class="axis">
            {fmt.format(new Date(last.at))}
          </text>
        )}
        {points.length > 1 && <polyline points={values.map((v, i) => `${x(i)},${y(v)}`).join(' ')} />}
        {values.map((v, i) => (
          <circle key={i} cx={x(i)} cy={y(v)} r={4} />
        ))}
      </svg>
    </div>
  );
}
