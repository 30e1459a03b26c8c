import { issueContextTool } from './issue-context.js';
import { issueTagsTool } from './issue-tags.js';
import { relatedIssuesTool } from './related-issues.js';
import { releaseContextTool } from './release-context.js';
import { searchTool } from './search.js';
import { statusTool } from './status.js';
import { timelineTool } from './timeline.js';

/** Every agent capability, in the order clients list them. */
export const agentTools = [
  searchTool,
  issueContextTool,
  issueTagsTool,
  relatedIssuesTool,
  timelineTool,
  releaseContextTool,
  statusTool,
] as const;
export { issueContextTool, issueTagsTool, relatedIssuesTool, releaseContextTool, searchTool, statusTool, timelineTool };
