export type Role = 'learner' | 'manager' | 'admin';

export interface User {
  id: string;
  email: string;
  name: string;
  role: Role;
}

/** an account in the admin list */
export interface ListedUser extends User {
  /** the email mixes alphabets and could pass for another address */
  lookalike: boolean;
}

/** A team the caller is a member of, as GET /api/me lists it. */
export interface MyTeam {
  id: string;
  name: string;
  manager_name: string;
  /** the company's identity provider put the person in this team (SCIM), not an invitation */
  provisioned: boolean;
}

export interface Me extends User {
  email_verified: boolean;
  /** false for an account that only signs in through the company's identity provider */
  has_password: boolean;
  teams: MyTeam[];
}

/** A company sign-in provider, as GET /api/auth/providers lists it. */
export interface AuthProvider {
  id: string;
  name: string;
  /** a same-origin path that starts the sign-in; takes ?next=<app path> */
  login_url: string;
}

/** An email domain whose addresses must sign in through the provider. */
export interface SsoDomain {
  domain: string;
  created_at: string;
}

/** One live sign-in of the caller's, as GET /api/me/sessions lists it. */
export interface Session {
  id: string;
  current: boolean;
  created_at: string;
  last_used_at: string;
  user_agent: string;
}

export interface TokenResponse {
  user: User;
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
}

export interface Skills {
  vision: number;
  alignment: number;
  inspiration: number;
}

export interface LessonSummary {
  slug: string;
  title: string;
  minutes: number;
  objective?: string;
  percent?: number;
  completed: boolean;
}

export interface QuizSummary {
  slug: string;
  title: string;
  passed: boolean;
  best_percent: number | null;
  attempts_used?: number;
  next_review_at?: string | null;
}

export interface Module {
  slug: string;
  title: string;
  summary: string;
  position: number;
  percent: number;
  completed: boolean;
  lessons: LessonSummary[];
  quizzes: QuizSummary[];
}

export interface CheckAnswer {
  check_id: string;
  option: string;
  correct: boolean;
  feedback: string;
  answers?: number;
  first_correct?: boolean;
  /** Once answered: why each option is right or wrong. */
  explanations?: { option: string; correct: boolean; feedback: string }[];
}

export interface Check {
  id: string;
  question: string;
  options: { id: string; text: string }[];
  answer: CheckAnswer | null;
}

export interface Reflection {
  id: string;
  prompt: string;
  body: string;
  updated_at: string | null;
}

export interface Lesson {
  slug: string;
  title: string;
  module: string;
  module_title?: string;
  minutes: number;
  objective?: string;
  html: string;
  prev: string | null;
  next: string | null;
  progress: { percent: number; completed: boolean; completed_at?: string | null };
  checks?: Check[];
  reflections?: Reflection[];
}

export interface Quiz {
  slug: string;
  title: string;
  module: string;
  intro: string;
  pass_percent: number;
  max_attempts: number | null;
  attempts_used: number;
  attempts_left?: number | null;
  best_percent: number | null;
  first_percent?: number | null;
  passed: boolean;
  next_review_at: string | null;
  next_attempt_at?: string | null;
  open_attempt_id?: string | null;
  /** How many situations the scenario comes in; each retake meets a new one first. */
  variants?: number;
}

/** The situation (cast, company, constraint) a run plays. */
export interface Variant {
  id: string;
  title: string;
}

export interface Step {
  id: string;
  text: string;
  /** Choice ids are per-attempt tokens: opaque, new in every attempt. */
  choices: { id: string; text: string }[];
  /** Decision `number` of about `of_about` (the longest way to an ending). */
  decision: { number: number; of_about: number };
}

export interface Result {
  percent: number;
  passed: boolean;
  skills: Skills;
  ending: { id?: string; title: string; text: string };
  /** In replays: per skill, how many decisions of the path moved it. */
  skill_decisions?: Skills;
}

export interface AttemptStarted {
  id: string;
  quiz: string;
  number: number;
  status: 'in_progress' | 'finished';
  variant: Variant;
  step: Step | null;
}

export interface AnswerResponse {
  feedback: string;
  finished: boolean;
  step: Step | null;
  result: Result | null;
}

export interface ReviewChoice {
  id: string;
  text: string;
  feedback: string;
  points?: Partial<Skills>;
  chosen?: boolean;
  best?: boolean;
}

export interface Attempt {
  id: string;
  quiz: string;
  number: number;
  status: string;
  variant?: Variant;
  step: Step | null;
  answers: {
    step_id: string;
    step_text: string;
    choice_id: string;
    choice_text: string;
    feedback: string;
    answered_at: string;
  }[];
  result: Result | null;
  /** Once finished: the decision that lost the most points, or null. */
  costly_decision?: CostlyDecision | null;
  started_at?: string;
  finished_at?: string | null;
  review?: {
    best_path?: string[];
    best_path_steps?: { step_id: string; step_text: string; choice_text: string; feedback: string }[];
    steps?: { id: string; text: string; choices: ReviewChoice[] }[];
  } | null;
}

/** A practice run from an attempt's costly decision: nothing it does counts. */
export interface Practice {
  id: string;
  practice: true;
  attempt_id: string;
  quiz: string;
  status: string;
  variant: Variant;
  from_position: number;
  step: Step | null;
  answers: { step_id: string; step_text: string; choice_id: string; choice_text: string; feedback: string }[];
  result: Result | null;
}

export interface AttemptSummary {
  id: string;
  number: number;
  status: string;
  variant?: Variant;
  percent: number | null;
  passed: boolean | null;
  started_at: string;
  finished_at: string | null;
}

export interface Assignment {
  id: string;
  user_id: string;
  module: string;
  module_title?: string;
  due_at: string;
  team_id?: string | null;
  status: 'not_started' | 'in_progress' | 'completed';
  overdue: boolean;
  percent?: number;
}

export interface LearnerProgress {
  modules: {
    slug: string;
    percent: number;
    completed: boolean;
    best_percent?: number | null;
    lessons_completed?: number;
    lessons?: number;
  }[];
  skills: Skills;
  skill_history?: { at: string; quiz: string; skills: Skills }[];
  reviews_due: string[];
  assignments: Assignment[];
  /** Quick checks answered, and right on the first answer (what counts). */
  quick_checks?: { answered: number; first_correct: number; of: number };
}

export interface Notification {
  id: string;
  kind: string;
  title: string;
  body: string;
  link: string;
  created_at: string;
  read_at: string | null;
  /** The due date of the assignment it is about; the text carries no time. */
  due_at?: string | null;
}

export interface Member {
  id: string;
  name: string;
  email: string;
  joined_at?: string;
  /** the email mixes alphabets and could pass for another address */
  lookalike: boolean;
}

/** A pending invitation as its invitee sees it. */
export interface Invitation {
  id: string;
  team: { id: string; name: string };
  manager: { name: string };
  created_at: string;
  expires_at: string;
}

/** A pending invitation as the team's manager sees it: only the address. */
export interface SentInvitation {
  id: string;
  email: string;
  created_at: string;
  expires_at: string;
}

export interface TeamSummary {
  id: string;
  name: string;
  manager_id: string;
  invite_code: string;
  created_at: string;
  members: number;
}

export interface TeamDetail {
  id: string;
  name: string;
  manager_id: string;
  invite_code: string;
  created_at: string;
  members: Member[];
}

export interface TeamProgress {
  team: { id: string; name: string };
  members: {
    user: Member;
    modules: { slug: string; percent: number; completed: boolean; best_percent: number | null }[];
    skills: Skills;
    assignments: Assignment[];
    /** Practice-task notes the member chose to share. */
    practice?: { module: string; note: string; shared: boolean; done_at: string }[];
  }[];
}

export interface Analytics {
  min_group: number;
  /** Every count includes deliberate per-member noise; this says how much. */
  noise: { noisy: boolean; truth_probability: number; estimate_min: number; note: string };
  /** First answers to each quick check (suppressed under min_group members). */
  quick_checks?: {
    lesson: string;
    check_id: string;
    question: string;
    members_answered: number;
    suppressed: boolean;
    first_correct: number;
    /** Noise-corrected share right first time; null for small groups. */
    first_correct_percent: number | null;
  }[];
  /** One entry per scenario and variant. */
  scenarios: {
    slug: string;
    title: string;
    variant: { id: string; title: string };
    /** Members who finished their first attempt of this variant. */
    members: number;
    suppressed: boolean;
    steps: {
      step_id: string;
      text: string;
      members_answered: number;
      suppressed: boolean;
      /** first_attempt counts are noisy; estimated_percent corrects for it (null for small groups);
       * recommended marks the scenario's recommended move (content, not anyone's answer). */
      choices: { id: string; text: string; first_attempt: number; estimated_percent: number | null; recommended: boolean }[];
    }[];
  }[];
}

/** A printable coaching brief for one scenario, from the noisy analytics and the scenario's content. */
export interface CoachingBrief {
  team: { id: string; name: string };
  scenario: { slug: string; title: string; module: string; module_title: string; version: string };
  min_group: number;
  noise: Analytics['noise'];
  /** The privacy floor hides every step (or nobody finished); message says so. */
  hidden: boolean;
  message: string;
  variants: {
    variant: { id: string; title: string };
    members: number;
    members_on_earlier_versions: number;
    suppressed: boolean;
    summary: string;
    telling_step: string;
    steps: {
      position: number;
      step_id: string;
      text: string;
      on_best_path: boolean;
      suppressed: boolean;
      choices: { id: string; text: string; recommended: boolean; percent: number | null; estimated_percent: number | null }[];
    }[];
    questions: string[];
  }[];
}

export interface CostlyDecision {
  step_id: string;
  step_text: string;
  chosen: { text: string; feedback: string };
  best: { text: string; feedback: string };
  points_lost: number;
  /** The decision's index in the path: where a practice run starts. */
  position?: number;
}

/** The "try it this week" task of a module, and the caller's record of it. */
export interface PracticeTask {
  task: string;
  done: boolean;
  note: string;
  shared: boolean;
  done_at: string | null;
}

/** A module's printable job aid. */
export interface Aid {
  module: string;
  module_title: string;
  title: string;
  summary: string;
  html: string;
  practice: PracticeTask;
}

/** A finished attempt as the member's manager sees it (never its choices). */
export interface AttemptResult {
  number: number;
  version: string;
  variant: { id: string; title: string };
  percent: number;
  passed: boolean;
  finished_at: string;
}

/** One member's drill-down for their team's manager. */
export interface MemberDetail {
  team: { id: string; name: string };
  user: Member;
  modules: { slug: string; title: string; percent: number; completed: boolean; started: boolean }[];
  assignments: Assignment[];
  scenarios: { slug: string; title: string; module: string; attempts: number; passed: boolean; best: AttemptResult | null; latest: AttemptResult | null }[];
  skills: Record<'vision' | 'alignment' | 'inspiration', { score: number; decisions: number }>;
  practice: { module: string; note: string; shared: boolean; done_at: string }[];
}

/** What an admin enters to register a platform by hand (POST /api/admin/lti/platforms). */
export interface LtiPlatformInput {
  issuer: string;
  client_id: string;
  deployment_ids: string[];
  name: string;
  auth_url: string;
  token_url: string;
  jwks_url: string;
}

/** A learning platform registered for LTI 1.3 launches (GET /api/admin/lti/platforms). */
export interface LtiPlatform extends LtiPlatformInput {
  id: string;
  created_at: string;
}

/** A one-time dynamic-registration URL (POST /api/admin/lti/registrations). */
export interface LtiRegistrationUrl {
  url: string;
  expires_at: string;
}

/** Something of Baton's an instructor can link from the platform's editor. */
export interface LtiContentItem {
  kind: 'module' | 'scenario';
  slug: string;
  title: string;
  module?: string;
}

/** A deep-linking request, as the picker shows it (GET /api/lti/deep-links/{id}). */
export interface LtiDeepLink {
  id: string;
  platform: string;
  accept_types: string[];
  accept_multiple: boolean;
  expires_at: string;
  items: LtiContentItem[];
}

/** The signed answer and where to form-POST it (as JWT). */
export interface LtiDeepLinkResponse {
  jwt: string;
  return_url: string;
}
