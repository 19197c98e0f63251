/**
 * The GitHub REST API's issue comments, as documented (a pull request is an issue to them):
 * GET /repos/{owner}/{repo}/issues/{number}/comments (per_page 30 by default and at most
 * 100, page from 1, a Link header naming the next and last pages, oldest first), POST the
 * same path with {body} (201), PATCH /repos/{owner}/{repo}/issues/comments/{id} with {body}
 * (200). Every request needs a User-Agent (403 without) and a token, `Bearer` or `token`
 * (401 without or with a wrong one); an X-GitHub-Api-Version other than a supported one is
 * 400; a read-only token (a pull request from a fork) gets 403 "Resource not accessible by
 * integration" on writes; a body that is not a string, or longer than 65,536 characters, is
 * 422; an issue or comment that does not exist is 404.
 */
import { FakeService, type Recorded, type Reply } from './fake-api.js';

export interface GitHubComment {
  id: number;
  issue: number;
  body: string;
  /** Who wrote it. */
  login: string;
  /** How many times it was edited. */
  edits: number;
}

export interface GitHubOptions {
  repository: string;
  token: string;
  /** The login the token posts as. */
  login?: string;
  readOnly?: boolean;
  /** Issues and pull requests that exist. */
  issues: number[];
}

const apiVersions = ['2022-11-28'];

export class FakeGitHub extends FakeService {
  readonly comments: GitHubComment[] = [];
  private next = 1000;

  constructor(readonly options: GitHubOptions) {
    super();
  }

  /** A comment someone wrote before. */
  seed(issue: number, login: string, body: string): GitHubComment {
    const c = { id: this.next++, issue, body, login, edits: 0 };
    this.comments.push(c);
    return c;
  }

  private json(c: GitHubComment) {
    const url = `https://github.com/${this.options.repository}/pull/${c.issue}#issuecomment-${c.id}`;
    return { id: c.id, html_url: url, body: c.body, user: { login: c.login, type: c.login.endsWith('[bot]') ? 'Bot' : 'User' } };
  }

  protected handle(req: Recorded): Reply {
    if (!req.headers['user-agent'])
      return { status: 403, body: { message: 'Request forbidden by administrative rules. Please make sure your request has a User-Agent header' } };
    const version = req.headers['x-github-api-version'];
    if (version !== undefined && !apiVersions.includes(String(version)))
      return { status: 400, body: { message: `API version ${String(version)} is not supported.` } };
    const auth = req.headers.authorization ?? '';
    const token = /^(?:Bearer|token) (.+)$/.exec(auth)?.[1];
    if (!token) return { status: 401, body: { message: 'Requires authentication' } };
    if (token !== this.options.token) return { status: 401, body: { message: 'Bad credentials' } };
    const prefix = `/repos/${this.options.repository}/issues/`;
    if (!req.path.startsWith(prefix)) return { status: 404, body: { message: 'Not Found' } };
    const rest = req.path.slice(prefix.length);
    const list = /^(\d+)\/comments$/.exec(rest);
    const one = /^comments\/(\d+)$/.exec(rest);
    const write = req.method === 'POST' || req.method === 'PATCH';
    if (write && this.options.readOnly) return { status: 403, body: { message: 'Resource not accessible by integration' } };
    const body = req.body as { body?: unknown } | undefined;
    if (write) {
      if (typeof body !== 'object' || body === null || typeof body.body !== 'string')
        return { status: 422, body: { message: 'Invalid request.\n\n"body" wasn\'t supplied.' } };
      if (body.body.length > 65_536)
        return {
          status: 422,
          body: {
            message: 'Validation Failed',
            errors: [{ resource: 'IssueComment', code: 'custom', field: 'body', message: 'body is too long (maximum is 65536 characters)' }],
          },
        };
    }
    if (list) {
      const issue = Number(list[1]);
      if (!this.options.issues.includes(issue)) return { status: 404, body: { message: 'Not Found' } };
      if (req.method === 'GET') {
        const perPage = Math.min(100, Math.max(1, Number(req.query.get('per_page') ?? 30) || 30));
        const page = Math.max(1, Number(req.query.get('page') ?? 1) || 1);
        const all = this.comments.filter((c) => c.issue === issue).sort((a, b) => a.id - b.id);
        const last = Math.max(1, Math.ceil(all.length / perPage));
        const link = (p: number, rel: string) => `<https://api.github.com/repositories/1/issues/${issue}/comments?per_page=${perPage}&page=${p}>; rel="${rel}"`;
        const links = page < last ? [link(page + 1, 'next'), link(last, 'last')] : [];
        return {
          status: 200,
          headers: links.length ? { link: links.join(', ') } : {},
          body: all.slice((page - 1) * perPage, page * perPage).map((c) => this.json(c)),
        };
      }
      if (req.method === 'POST')
        return { status: 201, body: this.json(this.seed(issue, this.options.login ?? 'github-actions[bot]', (body as { body: string }).body)) };
    }
    if (one && req.method === 'PATCH') {
      const c = this.comments.find((x) => x.id === Number(one[1]));
      if (!c) return { status: 404, body: { message: 'Not Found' } };
      c.body = (body as { body: string }).body;
      c.edits++;
      return { status: 200, body: this.json(c) };
    }
    return { status: 404, body: { message: 'Not Found' } };
  }
}
