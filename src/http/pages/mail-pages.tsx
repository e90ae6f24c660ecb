import type { Context } from '../../service/context.js';
import { openEmailLink } from '../../service/mail/email-address.js';
import { AppError } from '../../service/errors.js';
import { requestMeta } from '../request-meta.js';
import type { App } from '../schemas.js';
import { Card, Layout, Notice, PageHeading } from './layout.js';
import { pageBase } from './page-context.js';
import { sendPage } from './render.js';

/** The token of a link, from the query; anything else is ''. */
export function queryToken(query: unknown): string {
  const v = (query as Record<string, unknown> | null)?.token;
  return typeof v === 'string' && v.length <= 128 ? v : '';
}

function LinkResult({ title, ok, message, user, csrf }: { title: string; ok: boolean; message: string; user: { email: string } | null; csrf: string }) {
  return (
    <Layout title={title} user={user} csrf={csrf} hasErrors={!ok}>
      <Card>
        <PageHeading title={title} />
        <Notice kind={ok ? 'success' : 'error'}>{message}</Notice>
        <p>{user ? <a href="/settings">Back to Account settings</a> : <a href="/login">Log in</a>}</p>
      </Card>
    </Layout>
  );
}

/** Pages reached from links in mail (SPEC §7). */
export function mailPages(app: App, ctx: Context): void {
  // Opening the link is what verifies (SPEC §7), signed in or not.
  app.get('/email/verify', async (request, reply) => {
    const { csrf, auth } = await pageBase(ctx, request, reply);
    const user = auth && !auth.session.pending ? { email: auth.email } : null;
    reply.header('referrer-policy', 'no-referrer');
    try {
      const r = await openEmailLink(ctx, queryToken(request.query), requestMeta(request));
      const message = r.kind === 'verified' ? `Thank you: ${r.email} is confirmed as your email address.` : `Your email address is now ${r.email}.`;
      return sendPage(reply, <LinkResult title={r.kind === 'verified' ? 'Email address confirmed' : 'Email address changed'} ok message={message} user={user ? { email: r.kind === 'changed' ? r.email : user.email } : null} csrf={csrf} />);
    } catch (err) {
      if (!(err instanceof AppError) || err.statusCode >= 500) throw err;
      return sendPage(reply, <LinkResult title="Link not valid" ok={false} message={err.message} user={user} csrf={csrf} />, err.statusCode);
    }
  });
}
