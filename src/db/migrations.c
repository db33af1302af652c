/*
 * migrations.c - the schema, as numbered migrations applied in order at start.
 *
 * Each migration is written once for both backends. Two placeholders stand for what the
 * dialects spell differently: @ID@ (an auto-numbered 64-bit primary key) and @BLOB@ (bytes).
 * Times are Unix seconds in BIGINT columns; booleans are INTEGER 0/1. A migration, once
 * released, never changes: a change is a new migration.
 */
#include "db/db-private.h"

static const db_migration_t db_migrations[] = {
	{1, "initial schema",
	 "CREATE TABLE settings ("
	 "  name TEXT PRIMARY KEY,"
	 "  value TEXT NOT NULL,"
	 "  updated_at BIGINT NOT NULL);"

	 "CREATE TABLE users ("
	 "  id @ID@,"
	 "  email TEXT NOT NULL UNIQUE," /* canonical: lower-case */
	 "  display_name TEXT NOT NULL DEFAULT '',"
	 "  department TEXT NOT NULL DEFAULT '',"
	 "  state TEXT NOT NULL CHECK (state IN ('enabled','pending','disabled')),"
	 "  source TEXT NOT NULL DEFAULT 'admin',"
	 "  created_at BIGINT NOT NULL,"
	 "  updated_at BIGINT NOT NULL);"

	 /* Codes are kept only as a keyed hash; UNIQUE lets the code alone name its user. */
	 "CREATE TABLE user_codes ("
	 "  user_id BIGINT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,"
	 "  code_hash TEXT NOT NULL UNIQUE,"
	 "  issued_at BIGINT NOT NULL);"

	 "CREATE TABLE company_code ("
	 "  id INTEGER PRIMARY KEY CHECK (id = 1),"
	 "  code TEXT NOT NULL,"
	 "  issued_at BIGINT NOT NULL);"

	 "CREATE TABLE sender_rules ("
	 "  id @ID@,"
	 "  kind TEXT NOT NULL CHECK (kind IN ('allow','block')),"
	 "  pattern TEXT NOT NULL," /* user@domain, or @domain for a whole domain */
	 "  created_at BIGINT NOT NULL,"
	 "  UNIQUE (kind, pattern));"

	 "CREATE TABLE printers ("
	 "  id @ID@,"
	 "  name TEXT NOT NULL UNIQUE,"
	 "  alias TEXT NOT NULL UNIQUE,"
	 "  location TEXT NOT NULL DEFAULT '',"
	 "  description TEXT NOT NULL DEFAULT '',"
	 "  device_uri TEXT NOT NULL,"
	 "  is_enabled INTEGER NOT NULL DEFAULT 1,"
	 "  capabilities TEXT NOT NULL DEFAULT '{}'," /* JSON */
	 "  output_format TEXT NOT NULL DEFAULT 'auto',"
	 "  group_name TEXT NOT NULL DEFAULT '',"
	 "  panel_token_hash TEXT UNIQUE,"
	 "  created_at BIGINT NOT NULL,"
	 "  updated_at BIGINT NOT NULL);"

	 /* id is the IPP job-id users see; uuid is the id in URLs. */
	 "CREATE TABLE jobs ("
	 "  id @ID@,"
	 "  uuid TEXT NOT NULL UNIQUE,"
	 "  user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	 "  state TEXT NOT NULL,"
	 "  state_reason TEXT NOT NULL DEFAULT '',"
	 "  title TEXT NOT NULL DEFAULT '',"
	 "  source TEXT NOT NULL,"
	 "  options TEXT NOT NULL DEFAULT '{}'," /* JSON print options */
	 "  printer_id BIGINT REFERENCES printers(id) ON DELETE SET NULL,"
	 "  is_combined INTEGER NOT NULL DEFAULT 0,"
	 "  pages INTEGER,"
	 "  color_pages INTEGER,"
	 "  size_bytes BIGINT NOT NULL DEFAULT 0,"
	 "  created_at BIGINT NOT NULL,"
	 "  updated_at BIGINT NOT NULL,"
	 "  released_at BIGINT,"
	 "  finished_at BIGINT,"
	 "  expires_at BIGINT);"
	 "CREATE INDEX jobs_user_state ON jobs (user_id, state, id);"
	 "CREATE INDEX jobs_state_expires ON jobs (state, expires_at);"

	 /* One row per spool file: the original and every derivative. */
	 "CREATE TABLE documents ("
	 "  id @ID@,"
	 "  job_id BIGINT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,"
	 "  role TEXT NOT NULL," /* original, pdf, print, thumb:N, preview:N */
	 "  file_id TEXT NOT NULL UNIQUE," /* 128-bit random spool name, hex */
	 "  name TEXT NOT NULL DEFAULT '',"
	 "  content_type TEXT NOT NULL DEFAULT 'application/octet-stream',"
	 "  size_bytes BIGINT NOT NULL,"
	 "  created_at BIGINT NOT NULL);"
	 "CREATE INDEX documents_job ON documents (job_id);"

	 /* Accounting keeps copies, not references: it outlives users, jobs and printers. */
	 "CREATE TABLE accounting ("
	 "  id @ID@,"
	 "  job_uuid TEXT NOT NULL UNIQUE,"
	 "  user_email TEXT NOT NULL,"
	 "  department TEXT NOT NULL DEFAULT '',"
	 "  printer_name TEXT NOT NULL DEFAULT '',"
	 "  source TEXT NOT NULL,"
	 "  title TEXT NOT NULL DEFAULT '',"
	 "  final_state TEXT NOT NULL,"
	 "  pages_mono INTEGER NOT NULL DEFAULT 0,"
	 "  pages_color INTEGER NOT NULL DEFAULT 0,"
	 "  sheets INTEGER NOT NULL DEFAULT 0,"
	 "  copies INTEGER NOT NULL DEFAULT 1,"
	 "  sides TEXT NOT NULL DEFAULT '',"
	 "  media TEXT NOT NULL DEFAULT '',"
	 "  number_up INTEGER NOT NULL DEFAULT 1,"
	 "  size_bytes BIGINT NOT NULL DEFAULT 0,"
	 "  submitted_at BIGINT NOT NULL,"
	 "  finished_at BIGINT NOT NULL);"
	 "CREATE INDEX accounting_finished ON accounting (finished_at);"

	 "CREATE TABLE audit_log ("
	 "  id @ID@,"
	 "  at BIGINT NOT NULL,"
	 "  actor TEXT NOT NULL,"
	 "  action TEXT NOT NULL,"
	 "  object TEXT NOT NULL DEFAULT '',"
	 "  detail TEXT NOT NULL DEFAULT '');"
	 "CREATE INDEX audit_log_at ON audit_log (at);"

	 "CREATE TABLE admins ("
	 "  id @ID@,"
	 "  name TEXT NOT NULL UNIQUE,"
	 "  password_hash TEXT NOT NULL," /* argon2id */
	 "  created_at BIGINT NOT NULL,"
	 "  updated_at BIGINT NOT NULL);"

	 /* Bearer tokens and sessions, stored as keyed hashes only. */
	 "CREATE TABLE tokens ("
	 "  token_hash TEXT PRIMARY KEY,"
	 "  kind TEXT NOT NULL," /* app, admin-session */
	 "  user_id BIGINT REFERENCES users(id) ON DELETE CASCADE,"
	 "  admin_id BIGINT REFERENCES admins(id) ON DELETE CASCADE,"
	 "  csrf_hash TEXT,"
	 "  created_at BIGINT NOT NULL,"
	 "  expires_at BIGINT NOT NULL,"
	 "  last_used_at BIGINT NOT NULL);"
	 "CREATE INDEX tokens_expires ON tokens (expires_at);"

	 /* Guessing throttle: failures per source address and per account. */
	 "CREATE TABLE auth_throttle ("
	 "  throttle_key TEXT PRIMARY KEY,"
	 "  failures INTEGER NOT NULL,"
	 "  window_start BIGINT NOT NULL,"
	 "  locked_until BIGINT NOT NULL DEFAULT 0);"},

	/* Create-Job/Send-Document (state incoming needs no schema change: jobs.state is free
	 * text); a job-password kept as a keyed hash bound to the job's uuid, NULL = none; and
	 * a label naming each token for its owner ("Ann's phone"). */
	{2, "job passwords, token labels",
	 "ALTER TABLE jobs ADD COLUMN pin_hash TEXT;"
	 "ALTER TABLE tokens ADD COLUMN label TEXT NOT NULL DEFAULT '';"},

	/* The converter: how often a job was claimed (a worker that died retries it, up to
	 * [convert] max_attempts), when and by whom it was last claimed (stale claims of a
	 * worker host that vanished go back to received), and the analysis of the kept PDF per
	 * page (JSON: [{"w":pt,"h":pt,"color":bool}…]). */
	{3, "conversion claims and page analysis",
	 "ALTER TABLE jobs ADD COLUMN convert_attempts INTEGER NOT NULL DEFAULT 0;"
	 "ALTER TABLE jobs ADD COLUMN convert_claimed_at BIGINT;"
	 "ALTER TABLE jobs ADD COLUMN convert_worker TEXT NOT NULL DEFAULT '';"
	 "ALTER TABLE jobs ADD COLUMN page_info TEXT NOT NULL DEFAULT '[]';"
	 "CREATE INDEX jobs_state_id ON jobs (state, id);"},

	/* The company directory (LDAP / Active Directory): connections with their service
	 * account (password encrypted with a key derived from the master key, hex of nonce +
	 * ciphertext), the attribute mapping and group rules, and the health the dashboard
	 * shows (last sync, last error). Users keep the directory entry they came from, their
	 * cost centre, whether group rules make them an admin, and when an import last saw
	 * them (an import generation: leavers are those the latest import did not see). */
	{4, "company directory",
	 "CREATE TABLE directories ("
	 "  id @ID@,"
	 "  name TEXT NOT NULL UNIQUE,"
	 "  kind TEXT NOT NULL DEFAULT 'ldap' CHECK (kind IN ('ldap','ad')),"
	 "  uris TEXT NOT NULL," /* space-separated ldap:// or ldaps:// URIs, tried in order */
	 "  starttls INTEGER NOT NULL DEFAULT 0,"
	 "  ca_file TEXT NOT NULL DEFAULT '',"
	 "  verify INTEGER NOT NULL DEFAULT 1,"
	 "  bind_dn TEXT NOT NULL DEFAULT '',"
	 "  bind_password_enc TEXT NOT NULL DEFAULT '',"
	 "  base_dns TEXT NOT NULL," /* newline-separated */
	 "  user_filter TEXT NOT NULL DEFAULT '',"
	 "  login_attrs TEXT NOT NULL DEFAULT '',"
	 "  mail_attrs TEXT NOT NULL DEFAULT '',"
	 "  mapping TEXT NOT NULL DEFAULT ''," /* email=…,display_name=…,department=…,cost_centre=… */
	 "  print_group TEXT NOT NULL DEFAULT ''," /* DN; '' = everyone the filter finds */
	 "  admin_group TEXT NOT NULL DEFAULT '',"
	 "  network_timeout_ms INTEGER NOT NULL DEFAULT 3000,"
	 "  op_timeout_ms INTEGER NOT NULL DEFAULT 5000,"
	 "  sync_interval_s INTEGER NOT NULL DEFAULT 3600,"
	 "  enabled INTEGER NOT NULL DEFAULT 1,"
	 "  last_sync_at BIGINT,"
	 "  last_sync_result TEXT NOT NULL DEFAULT '',"
	 "  last_ok_at BIGINT,"
	 "  last_error TEXT NOT NULL DEFAULT '',"
	 "  last_error_at BIGINT,"
	 "  created_at BIGINT NOT NULL,"
	 "  updated_at BIGINT NOT NULL);"
	 "ALTER TABLE users ADD COLUMN cost_centre TEXT NOT NULL DEFAULT '';"
	 "ALTER TABLE users ADD COLUMN directory_id BIGINT REFERENCES directories(id) ON DELETE SET NULL;"
	 "ALTER TABLE users ADD COLUMN directory_dn TEXT;"
	 "ALTER TABLE users ADD COLUMN is_directory_admin INTEGER NOT NULL DEFAULT 0;"
	 "ALTER TABLE users ADD COLUMN directory_sync_gen BIGINT;"
	 "CREATE INDEX users_directory ON users (directory_id, directory_sync_gen);"},

	/* The printer status cache (src/output/status.h): what each printer last said about its
	 * state, reasons (IPP printer-state-reasons keywords, SNMP errors mapped to them),
	 * supplies and trays (JSON arrays), when it was asked and why it did not answer; and the
	 * SNMP community and port used to ask it (a row may hold only those, checked_at 0). */
	{5, "printer status",
	 "CREATE TABLE printer_status ("
	 "  printer_id BIGINT PRIMARY KEY REFERENCES printers(id) ON DELETE CASCADE,"
	 "  state TEXT NOT NULL DEFAULT 'unknown'"
	 "    CHECK (state IN ('idle','processing','stopped','offline','unknown')),"
	 "  reasons TEXT NOT NULL DEFAULT '',"
	 "  markers TEXT NOT NULL DEFAULT '[]',"
	 "  trays TEXT NOT NULL DEFAULT '[]',"
	 "  checked_at BIGINT NOT NULL DEFAULT 0,"
	 "  error TEXT NOT NULL DEFAULT '',"
	 "  snmp_community TEXT NOT NULL DEFAULT 'public',"
	 "  snmp_port INTEGER NOT NULL DEFAULT 161);"},

	/* Accounting names the device and the server too: the printer's MAC address (from its
	 * capabilities; '' when unknown) outlives a rename or a new IP address, and the server
	 * name tells apart the hosts of one PostgreSQL installation. */
	{6, "accounting printer MAC and server name",
	 "ALTER TABLE accounting ADD COLUMN printer_mac TEXT NOT NULL DEFAULT '';"
	 "ALTER TABLE accounting ADD COLUMN server_name TEXT NOT NULL DEFAULT '';"},

	/* Print by email, inbound (src/mail): the mailboxes polled (the password or OAuth2
	 * token sealed under a key derived from the master key: hex of nonce + ciphertext) with
	 * the status the dashboard shows; and every mail handled, keyed by Message-ID + a hash
	 * of its bytes, so that a mail read again after a crash (committed, not yet deleted on
	 * the server) is deleted without new jobs and without a second reply. job_ids lists the
	 * jobs made (comma-separated) for a confirmation that must be queued again;
	 * reply_state: none (no reply due), pending (due, not yet queued), queued. */
	{7, "mail accounts and seen mails",
	 "CREATE TABLE mail_accounts ("
	 "  id @ID@,"
	 "  name TEXT NOT NULL UNIQUE,"
	 "  url TEXT NOT NULL,"
	 "  proto TEXT NOT NULL CHECK (proto IN ('imap','pop3')),"
	 "  username TEXT NOT NULL,"
	 "  login TEXT NOT NULL DEFAULT 'password' CHECK (login IN ('password','xoauth2')),"
	 "  secret_enc TEXT NOT NULL DEFAULT '',"
	 "  address TEXT NOT NULL,"
	 "  verify_tls INTEGER NOT NULL DEFAULT 1,"
	 "  ca_file TEXT NOT NULL DEFAULT '',"
	 "  poll_interval_s INTEGER NOT NULL DEFAULT 10,"
	 "  default_printer_id BIGINT REFERENCES printers(id) ON DELETE SET NULL,"
	 "  enabled INTEGER NOT NULL DEFAULT 1,"
	 "  last_poll_at BIGINT NOT NULL DEFAULT 0,"
	 "  last_ok_at BIGINT NOT NULL DEFAULT 0,"
	 "  last_error TEXT NOT NULL DEFAULT '',"
	 "  messages_ingested BIGINT NOT NULL DEFAULT 0,"
	 "  created_at BIGINT NOT NULL,"
	 "  updated_at BIGINT NOT NULL);"
	 "CREATE TABLE mail_seen ("
	 "  id @ID@,"
	 "  message_id TEXT NOT NULL,"
	 "  content_hash TEXT NOT NULL,"
	 "  account_id BIGINT REFERENCES mail_accounts(id) ON DELETE SET NULL,"
	 "  outcome TEXT NOT NULL,"
	 "  job_ids TEXT NOT NULL DEFAULT '',"
	 "  reply_state TEXT NOT NULL DEFAULT 'none'"
	 "    CHECK (reply_state IN ('none','pending','queued')),"
	 "  seen_at BIGINT NOT NULL,"
	 "  UNIQUE (message_id, content_hash));"
	 "CREATE INDEX mail_seen_at ON mail_seen (seen_at);"},

	/* Print by email, outbound (src/mail): the outbox, one row per reply. A row is queued
	 * with its template and context (JSON) in state pending, rendered by the sender thread
	 * when ready (a confirmation waits for its jobs' conversion until ready_by), then held
	 * as the sealed message (nonce + ciphertext: it may carry a confirmation code) in state
	 * queued until sent, retried at next_attempt_at with backoff; sent and failed rows keep
	 * no message. next_attempt_at doubles as the lease of the thread working on a row. And
	 * the SMTP settings (one row), the password or token sealed like the accounts'. */
	{8, "mail outbox and SMTP settings",
	 "CREATE TABLE mail_outbox ("
	 "  id @ID@,"
	 "  recipient TEXT NOT NULL,"
	 "  template TEXT NOT NULL,"
	 "  lang TEXT NOT NULL DEFAULT 'en',"
	 "  user_id BIGINT REFERENCES users(id) ON DELETE CASCADE,"
	 "  context TEXT NOT NULL DEFAULT '{}',"
	 "  in_reply_to TEXT NOT NULL DEFAULT '',"
	 "  issue_code INTEGER NOT NULL DEFAULT 0,"
	 "  wait_jobs INTEGER NOT NULL DEFAULT 0,"
	 "  state TEXT NOT NULL DEFAULT 'pending'"
	 "    CHECK (state IN ('pending','queued','sent','failed')),"
	 "  message @BLOB@,"
	 "  attempts INTEGER NOT NULL DEFAULT 0,"
	 "  next_attempt_at BIGINT NOT NULL,"
	 "  ready_by BIGINT NOT NULL,"
	 "  last_error TEXT NOT NULL DEFAULT '',"
	 "  created_at BIGINT NOT NULL,"
	 "  sent_at BIGINT);"
	 "CREATE INDEX mail_outbox_due ON mail_outbox (state, next_attempt_at);"
	 "CREATE TABLE mail_smtp ("
	 "  id INTEGER PRIMARY KEY CHECK (id = 1),"
	 "  host TEXT NOT NULL,"
	 "  port INTEGER NOT NULL DEFAULT 0,"
	 "  security TEXT NOT NULL DEFAULT 'starttls' CHECK (security IN ('starttls','tls','plain')),"
	 "  verify INTEGER NOT NULL DEFAULT 1,"
	 "  ca_file TEXT NOT NULL DEFAULT '',"
	 "  auth TEXT NOT NULL DEFAULT 'password' CHECK (auth IN ('none','password','xoauth2')),"
	 "  username TEXT NOT NULL DEFAULT '',"
	 "  secret_enc TEXT NOT NULL DEFAULT '',"
	 "  from_address TEXT NOT NULL,"
	 "  from_name TEXT NOT NULL DEFAULT '',"
	 "  updated_at BIGINT NOT NULL);"},

	/* Per-printer trust for IPPS printers with a certificate no CA vouches for: the SHA-256
	 * of the one certificate accepted (lower-case hex), set by the admin
	 * (`pullprint printers trust`); '' = the usual CA verification. */
	{9, "printer certificate pins",
	 "ALTER TABLE printers ADD COLUMN tls_pin TEXT NOT NULL DEFAULT '';"},

	/* Admin roles for the admin console (src/admin): 'admin' may do everything, 'helpdesk'
	 * may only read. Accounts made before the console keep full rights. */
	{10, "admin roles",
	 "ALTER TABLE admins ADD COLUMN role TEXT NOT NULL DEFAULT 'admin'"
	 "  CHECK (role IN ('admin','helpdesk'));"},

	/* Directory admins (src/admin/admin-directory.c): a member of a directory connection's
	 * admin group who signs in to the console gets a shadow account of kind 'directory'
	 * named "dir:<address>" (a name no local account can have), so sessions and the audit
	 * log have an admin row to name. Its password_hash is not a hash: it never signs in
	 * with a local password, only through the directory, which checks the group each time. */
	{11, "directory admin accounts",
	 "ALTER TABLE admins ADD COLUMN kind TEXT NOT NULL DEFAULT 'local'"
	 "  CHECK (kind IN ('local','directory'));"},

	/* Small documents kept in the database (src/core/inline-doc.c): the sealed spool bytes
	 * of a document, in its own row, written in the transaction that records it, so a
	 * submission needs one flush, not two (and no page of another table or index). NULL:
	 * the document is a spool file. */
	{12, "small documents in the database",
	 "ALTER TABLE documents ADD COLUMN sealed @BLOB@;"},
};

const db_migration_t *db_migrations_list(size_t *count_r)
{
	*count_r = sizeof(db_migrations) / sizeof(db_migrations[0]);
	return db_migrations;
}
