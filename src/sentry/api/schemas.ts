import { z } from 'zod';

/*
 * Lenient shapes of Sentry API responses. Only ids are validated strictly
 * (they are what we key on); every other known field degrades to null when it
 * is missing or has an unexpected type, and unknown fields pass through.
 */

/** Ids arrive as strings or numbers depending on the endpoint; we always use strings. */
const id = z.union([z.string().min(1), z.number().int()]).transform(String);
const optionalId = id.nullish().catch(null);
const text = z.string().nullish().catch(null);
/** Numbers that Sentry sometimes sends as strings (`count: "25"`). */
const numeric = z
  .union([z.number(), z.string().regex(/^-?\d+(\.\d+)?$/)])
  .transform(Number)
  .nullish()
  .catch(null);

export const userSchema = z.looseObject({
  id,
  name: text,
  email: text,
  username: text,
});

const userRef = z.looseObject({ id: optionalId, name: text, email: text, username: text }).nullish().catch(null);

const projectRef = z.looseObject({ id, slug: text, name: text, platform: text });

export const organizationSchema = z.looseObject({
  id,
  slug: z.string().min(1),
  name: text,
  links: z.looseObject({ regionUrl: text, organizationUrl: text }).nullish().catch(null),
});

export const projectSchema = z.looseObject({
  id,
  slug: z.string().min(1),
  name: text,
  platform: text,
  dateCreated: text,
});

export const teamSchema = z.looseObject({
  id,
  slug: z.string().min(1),
  name: text,
});

export const memberSchema = z.looseObject({
  id,
  email: text,
  name: text,
  orgRole: text,
  role: text,
  user: userRef,
});

export const environmentSchema = z.looseObject({
  id,
  name: z.string(),
});

export const issueSchema = z.looseObject({
  id,
  shortId: text,
  title: text,
  culprit: text,
  permalink: text,
  level: text,
  status: text,
  substatus: text,
  priority: text,
  issueType: text,
  issueCategory: text,
  count: numeric,
  userCount: numeric,
  firstSeen: text,
  lastSeen: text,
  project: projectRef.nullish().catch(null),
  assignedTo: z.looseObject({ type: text, id: optionalId, name: text, email: text }).nullish().catch(null),
});

export const eventSchema = z.looseObject({
  id,
  eventID: text,
  groupID: optionalId,
  projectID: optionalId,
  type: text,
  title: text,
  message: text,
  platform: text,
  dateCreated: text,
  entries: z.array(z.unknown()).nullish().catch(null),
  tags: z
    .array(z.looseObject({ key: z.string(), value: z.string().nullable() }))
    .nullish()
    .catch(null),
});

export const activitySchema = z.looseObject({
  id,
  type: z.string(),
  data: z.record(z.string(), z.unknown()).nullish().catch(null),
  dateCreated: text,
  user: userRef,
});

/** `GET .../issues/{id}/activities/` wraps the list in an object. */
export const activityListSchema = z.looseObject({ activity: z.array(activitySchema) });

export const releaseSchema = z.looseObject({
  id,
  version: z.string().min(1),
  shortVersion: text,
  ref: text,
  url: text,
  dateCreated: text,
  dateReleased: text,
  commitCount: numeric,
  deployCount: numeric,
  newGroups: numeric,
  projects: z.array(projectRef).nullish().catch(null),
});

export const deploySchema = z.looseObject({
  id,
  environment: text,
  name: text,
  url: text,
  dateStarted: text,
  dateFinished: text,
});

export const commitSchema = z.looseObject({
  /** The commit SHA. */
  id,
  message: text,
  dateCreated: text,
  author: z.looseObject({ name: text, email: text }).nullish().catch(null),
  repository: z.looseObject({ name: text }).nullish().catch(null),
});

export const commitFileSchema = z.looseObject({
  id,
  filename: text,
  type: text,
  commitMessage: text,
  repoName: text,
  author: z.looseObject({ name: text, email: text }).nullish().catch(null),
});

export type User = z.output<typeof userSchema>;
export type Organization = z.output<typeof organizationSchema>;
export type Project = z.output<typeof projectSchema>;
export type Team = z.output<typeof teamSchema>;
export type Member = z.output<typeof memberSchema>;
export type Environment = z.output<typeof environmentSchema>;
export type Issue = z.output<typeof issueSchema>;
export type IssueEvent = z.output<typeof eventSchema>;
export type Activity = z.output<typeof activitySchema>;
export type Release = z.output<typeof releaseSchema>;
export type Deploy = z.output<typeof deploySchema>;
export type Commit = z.output<typeof commitSchema>;
export type CommitFile = z.output<typeof commitFileSchema>;

/** One value of an issue's tag (`topValues` items, and the values endpoint's items). */
export const issueTagValueSchema = z.looseObject({
  value: z.union([z.string(), z.number()]).transform(String).nullish().catch(null),
  count: numeric,
  lastSeen: text,
  firstSeen: text,
});

/** One key of `/issues/{id}/tags/`: events with it (`totalValues`) and its most frequent values. */
export const issueTagSchema = z.looseObject({
  key: z.string().min(1),
  name: text,
  totalValues: numeric,
  topValues: z.array(issueTagValueSchema).nullish().catch(null),
});

export type IssueTag = z.output<typeof issueTagSchema>;
export type IssueTagValue = z.output<typeof issueTagValueSchema>;
