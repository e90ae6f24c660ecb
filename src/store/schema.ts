/**
 * Table types for Kysely. Times are milliseconds since the epoch (bigint in PostgreSQL, read back as
 * numbers); flags are 0/1 integers, so both databases share one set of queries.
 */
import type { Generated } from 'kysely';

export interface UsersTable {
  id: string;
  email: string;
  email_normalized: string;
  password_hash: string;
  created_at: number;
  password_changed_at: number;
  /** Set while an administrator has locked the account (migration 010). */
  locked_at: number | null;
  /** When a required-2FA rule first applied to the account; its grace period counts from here (migration 010). */
  two_factor_required_since: number | null;
  /** Goes up whenever every session and trusted device of the account must end (migration 003). */
  credential_generation: number;
  /** When the address was last proven by a link (migration 006); null: not verified. */
  email_verified_at: number | null;
  /** Set by "This wasn't me": the next login must go through a password reset. */
  password_reset_required_at: number | null;
}

export interface SessionsTable {
  /** SHA-256 of the cookie token. */
  id: string;
  user_id: string;
  created_at: number;
  last_seen_at: number;
  pending: number;
  authenticated_at: number | null;
  ip: string | null;
  user_agent: string | null;
  /** The account's credential generation when the session began; alive only while they are equal. */
  credential_generation: number;
  /** RFC 8176 values of what the login proved, space-separated (core/amr.ts). */
  amr: Generated<string>;
}

export interface SecurityEventsTable {
  id: string;
  user_id: string;
  type: string;
  at: number;
  ip: string | null;
  user_agent: string | null;
  /** Small JSON object with non-secret facts (e.g. remaining codes, key name). */
  detail: string | null;
}

export interface TotpCredentialsTable {
  user_id: string;
  /** AES-256-GCM sealed base32 secret. */
  secret_enc: string;
  /** Null while setup waits for its first code. */
  confirmed_at: number | null;
  /** Highest RFC 6238 time step accepted; codes at or before it are replays. */
  last_used_step: number | null;
  created_at: number;
}

export interface RecoveryCodesTable {
  id: string;
  user_id: string;
  position: number;
  /** HMAC of the normalized code: how a typed code is found and consumed. */
  code_mac: string;
  /** Sealed code for viewing again; null in `hashed` mode. */
  code_enc: string | null;
  used_at: number | null;
  created_at: number;
}

export interface TrustedDevicesTable {
  id: string;
  user_id: string;
  token_hash: string;
  label: string;
  created_at: number;
  expires_at: number;
  last_used_at: number | null;
  /** As for sessions: usable only while equal to the account's credential generation. */
  credential_generation: number;
}

export interface SecurityKeysTable {
  id: string;
  user_id: string;
  /** base64url WebAuthn credential id; unique across all accounts. */
  credential_id: string;
  /** base64url COSE public key. */
  public_key: string;
  counter: number;
  transports: string | null;
  name: string;
  created_at: number;
  last_used_at: number | null;
  /** 'security_key' (a second factor only) or 'passkey' (discoverable, user-verifying: signs in alone). */
  kind: Generated<string>;
  /** The authenticator model's AAGUID, when it reported one. */
  aaguid: string | null;
}

export interface SecondFactorAttemptsTable {
  user_id: string;
  /** Consecutive failures of the guessable methods (TOTP and recovery codes). */
  failures: number;
  last_failure_at: number;
}

export interface PasswordAttemptsTable {
  /** `address:<keyed hash of the normalised address>` or `device:<keyed hash of a browser's token>`. */
  key: string;
  /** Consecutive wrong passwords (counted up front, before the check; a success deletes the row). */
  failures: number;
  last_failure_at: number;
}

export interface ChallengesTable {
  id: string;
  /** The session (by token hash) the ceremony belongs to. */
  session_id: string;
  user_id: string;
  purpose: string;
  challenge: string;
  created_at: number;
  expires_at: number;
}

export interface AdminTokensTable {
  id: string;
  name: string;
  /** SHA-256 of the token; the token itself is shown once and never stored. */
  token_hash: string;
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
}

export interface AdminAuditLogTable {
  id: string;
  at: number;
  /** The administrator's email, the token's name, or "twofold CLI". */
  actor: string;
  actor_kind: string;
  action: string;
  /** Not a foreign key: the entry outlives a deleted account. */
  target_user_id: string | null;
  target_email: string | null;
  ip: string | null;
  user_agent: string | null;
  detail: string | null;
}

export interface OidcPayloadsTable {
  /** The oidc-provider model name (Session, AccessToken, Grant, Interaction …). */
  model: string;
  id: string;
  /** The model's payload as JSON. */
  payload: string;
  grant_id: string | null;
  user_code: string | null;
  uid: string | null;
  expires_at: number | null;
  consumed_at: number | null;
}

export interface OidcClientsTable {
  id: string;
  name: string;
  secret_enc: string | null;
  /** JSON array of exact URIs. */
  redirect_uris: string;
  post_logout_redirect_uris: string;
  first_party: number;
  require_2fa: number;
  created_at: number;
}

export interface OidcSigningKeysTable {
  kid: string;
  alg: string;
  active_alg: string | null;
  private_jwk_enc: string;
  created_at: number;
  retired_at: number | null;
  publish_until: number | null;
}

export interface OidcConsentsTable {
  user_id: string;
  client_id: string;
  /** Space-separated scopes the person allowed. */
  scopes: string;
  created_at: number;
  updated_at: number;
}

export interface MailOutboxTable {
  id: string;
  user_id: string | null;
  kind: string;
  to_address: string;
  /** Sealed JSON {subject, text, html}; null once sent (its links are single-use secrets). */
  content_enc: string | null;
  state: 'queued' | 'sent' | 'failed';
  attempts: number;
  created_at: number;
  next_attempt_at: number;
  lease_owner: string | null;
  lease_until: number | null;
  sent_at: number | null;
  last_error: string | null;
}

export interface EmailTokensTable {
  id: string;
  /** SHA-256 of the 256-bit link token. */
  token_hash: string;
  user_id: string;
  purpose: string;
  email: string | null;
  event_id: string | null;
  detail: string | null;
  created_at: number;
  expires_at: number;
  used_at: number | null;
  challenge: string | null;
  challenge_expires_at: number | null;
}

export interface PasskeyChallengesTable {
  /** base64url challenge as sent to the browser. */
  challenge: string;
  /** SHA-256 (base64url) of the ceremony cookie of the browser that asked. */
  binding: string;
  created_at: number;
  expires_at: number;
}

export interface UserGroupsTable {
  user_id: string;
  /** Normalised group name (core/groups.ts). */
  name: string;
  created_at: number;
}

export interface AccountRecoveriesTable {
  id: string;
  user_id: string;
  /** core/account-recovery.ts RecoveryState. */
  state: string;
  requested_at: number;
  confirm_expires_at: number;
  scheduled_at: number | null;
  due_at: number | null;
  reminder_sent_at: number | null;
  end_notice_sent_at: number | null;
  ended_at: number | null;
  cancel_reason: string | null;
  ip: string | null;
  user_agent: string | null;
}

export interface AccountRecoveryTokensTable {
  /** SHA-256 of the link's token. */
  token_hash: string;
  recovery_id: string;
  /** 'confirm' or 'cancel'. */
  purpose: string;
  expires_at: number;
}

export interface Database {
  users: UsersTable;
  sessions: SessionsTable;
  security_events: SecurityEventsTable;
  totp_credentials: TotpCredentialsTable;
  recovery_codes: RecoveryCodesTable;
  trusted_devices: TrustedDevicesTable;
  security_keys: SecurityKeysTable;
  second_factor_attempts: SecondFactorAttemptsTable;
  challenges: ChallengesTable;
  admin_tokens: AdminTokensTable;
  admin_audit_log: AdminAuditLogTable;
  oidc_payloads: OidcPayloadsTable;
  oidc_clients: OidcClientsTable;
  oidc_signing_keys: OidcSigningKeysTable;
  oidc_consents: OidcConsentsTable;
  password_attempts: PasswordAttemptsTable;
  mail_outbox: MailOutboxTable;
  email_tokens: EmailTokensTable;
  passkey_challenges: PasskeyChallengesTable;
  user_groups: UserGroupsTable;
  account_recoveries: AccountRecoveriesTable;
  account_recovery_tokens: AccountRecoveryTokensTable;
}

export type { Generated };
