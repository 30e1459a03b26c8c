import type { EmulatorData, IssueRecord, ProjectRecord, ReleaseRecord, TeamRecord, UserRecord } from './model.js';

/** Lookups over the seeded data. Arrays stay the source of truth; maps are rebuilt on insert. */
export class Store {
  private readonly issuesById = new Map<string, IssueRecord>();
  private readonly issuesByShortId = new Map<string, IssueRecord>();
  private readonly releasesByVersion = new Map<string, ReleaseRecord>();

  constructor(readonly data: EmulatorData) {
    for (const issue of data.issues) this.indexIssue(issue);
    for (const release of data.releases) this.releasesByVersion.set(release.version, release);
  }

  addIssue(issue: IssueRecord): void {
    this.data.issues.push(issue);
    this.indexIssue(issue);
  }

  private indexIssue(issue: IssueRecord): void {
    this.issuesById.set(issue.id, issue);
    this.issuesByShortId.set(issue.shortId.toUpperCase(), issue);
  }

  /** Org-scoped issue routes accept the numeric id or the short id, as Sentry does. */
  findIssue(idOrShortId: string): IssueRecord | undefined {
    return this.issuesById.get(idOrShortId) ?? this.issuesByShortId.get(idOrShortId.toUpperCase());
  }

  requireIssue(id: string): IssueRecord {
    const issue = this.findIssue(id);
    if (!issue) throw new Error(`Unknown issue ${id}`);
    return issue;
  }

  findRelease(version: string): ReleaseRecord | undefined {
    return this.releasesByVersion.get(version);
  }

  project(id: string): ProjectRecord {
    const project = this.data.projects.find((p) => p.id === id);
    if (!project) throw new Error(`Unknown project ${id}`);
    return project;
  }

  projectBySlug(slug: string): ProjectRecord | undefined {
    return this.data.projects.find((p) => p.slug === slug);
  }

  user(id: string): UserRecord | undefined {
    return this.data.users.find((u) => u.id === id);
  }

  team(id: string): TeamRecord | undefined {
    return this.data.teams.find((t) => t.id === id);
  }

  get owner(): UserRecord {
    return this.data.users[0];
  }
}
