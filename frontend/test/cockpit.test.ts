import { describe, expect, it } from 'vitest';
import { figures, filterMembers, isPast, sortMembers } from '../src/pages/cockpit';
import type { TeamProgress } from '../src/types';

type Row = TeamProgress['members'][number];

function member(name: string, percents: number[], overdue: number, best: (number | null)[] = [], vision = 0): Row {
  return {
    user: { id: name, name, email: `${name}@example.com`, lookalike: false },
    modules: percents.map((p, i) => ({ slug: `m${i}`, percent: p, completed: p === 100, best_percent: best[i] ?? null })),
    skills: { vision, alignment: 0, inspiration: 0 },
    assignments: Array.from({ length: overdue }, (_, i) => ({
      id: `${name}-${i}`,
      user_id: name,
      module: `m${i}`,
      due_at: '2026-01-01T00:00:00Z',
      status: 'not_started' as const,
      overdue: true,
    })),
  };
}

const ada = member('Ada', [100, 50], 0, [90], 40);
const bo = member('Bo', [0, 0], 2);
const cy = member('Cy', [10, 0], 1, [30], 0);

describe('the progress table', () => {
  it('puts the most overdue first by default', () => {
    expect(sortMembers([ada, cy, bo], 'overdue').map((m) => m.user.name)).toEqual(['Bo', 'Cy', 'Ada']);
  });
  it('sorts by name, completion and a skill, never-tried last', () => {
    expect(sortMembers([cy, bo, ada], 'name').map((m) => m.user.name)).toEqual(['Ada', 'Bo', 'Cy']);
    expect(sortMembers([bo, cy, ada], 'completion').map((m) => m.user.name)).toEqual(['Ada', 'Cy', 'Bo']);
    // Cy scored 0; Bo never finished a scenario and comes after.
    expect(sortMembers([bo, cy, ada], 'vision').map((m) => m.user.name)).toEqual(['Ada', 'Cy', 'Bo']);
  });
  it('filters overdue and not started members', () => {
    expect(filterMembers([ada, bo, cy], 'overdue').map((m) => m.user.name)).toEqual(['Bo', 'Cy']);
    expect(filterMembers([ada, bo, cy], 'not_started').map((m) => m.user.name)).toEqual(['Bo']);
    expect(filterMembers([ada, bo, cy], 'all')).toHaveLength(3);
  });
  it('counts the summary figures', () => {
    const f = figures({ team: { id: 't', name: 'T' }, members: [ada, bo, cy] });
    expect(f).toMatchObject({ members: 3, overdueMembers: 2, overdueAssignments: 3, notStarted: 1, modulesAssigned: 3, modulesCompleted: 0 });
  });
  it('knows a past date', () => {
    expect(isPast('2020-01-01T00:00:00Z')).toBe(true);
    expect(isPast(new Date(Date.now() + 60000).toISOString())).toBe(false);
  });
});
