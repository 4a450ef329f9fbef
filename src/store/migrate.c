/*
 * Numbered migrations, shared by every backend, and the runner.  This table
 * is the one place the schema is written down: add a migration at the end,
 * never edit one that has shipped.  Portable SQL only: BIGINT and TEXT
 * columns ({blob} for bytes), {pk} for the auto-increment primary key,
 * times as ms since the Unix epoch in UTC.
 */
#include <errno.h>
#include <stdlib.h>

#include "store/store_int.h"

#define RT_LOG_MODULE "store"

/*
 * Migration 11: calls may end 'voicemail' (a flow's voicemail step).
 * SQLite cannot ALTER a CHECK constraint, and rebuilding calls (copy,
 * drop, rename) would rewrite every call and its foreign keys; a list of
 * allowed values that only grows changes no row, so the backend edits the
 * stored definition instead.  A PostgreSQL backend would run
 * "ALTER TABLE calls DROP CONSTRAINT calls_disposition_check, ADD
 * CONSTRAINT calls_disposition_check CHECK (disposition IN (...))".
 */
static int calls_voicemail(struct rt_store_tx *tx)
{
	return rt_store_tx_table_sql_replace(
		tx, "calls", "'abandoned', 'interrupted'))",
		"'abandoned', 'interrupted', 'voicemail'))");
}

static const struct rt_migration migrations[] = {
	{1, "accounts, users, memberships, api keys, sessions, audit log",
	 "CREATE TABLE accounts ("
	 " id {pk},"
	 " parent_id BIGINT REFERENCES accounts(id),"
	 " name TEXT NOT NULL,"
	 " kind TEXT NOT NULL CHECK (kind IN ('agency', 'client')),"
	 " time_zone TEXT NOT NULL,"
	 " currency TEXT NOT NULL,"
	 " status TEXT NOT NULL CHECK (status IN ('active', 'suspended')),"
	 " created_at BIGINT NOT NULL,"
	 " updated_at BIGINT NOT NULL);"
	 "CREATE INDEX accounts_parent ON accounts (parent_id);"
	 /* Closure table: every (ancestor, descendant) pair, self included, so
	  * that a tenant check is one indexed lookup at any depth. */
	 "CREATE TABLE account_tree ("
	 " ancestor_id BIGINT NOT NULL REFERENCES accounts(id),"
	 " descendant_id BIGINT NOT NULL REFERENCES accounts(id),"
	 " depth BIGINT NOT NULL,"
	 " PRIMARY KEY (ancestor_id, descendant_id));"
	 "CREATE INDEX account_tree_descendant ON account_tree (descendant_id);"
	 "CREATE TABLE users ("
	 " id {pk},"
	 " email TEXT NOT NULL UNIQUE,"
	 " name TEXT NOT NULL,"
	 " password_hash TEXT NOT NULL,"
	 " status TEXT NOT NULL CHECK (status IN ('active', 'disabled')),"
	 " created_at BIGINT NOT NULL,"
	 " updated_at BIGINT NOT NULL,"
	 " last_login_at BIGINT);"
	 "CREATE TABLE memberships ("
	 " id {pk},"
	 " user_id BIGINT NOT NULL REFERENCES users(id),"
	 " account_id BIGINT NOT NULL REFERENCES accounts(id),"
	 " role TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'analyst', "
	 "'agent')),"
	 " created_at BIGINT NOT NULL,"
	 " UNIQUE (user_id, account_id));"
	 "CREATE INDEX memberships_account ON memberships (account_id);"
	 "CREATE TABLE api_keys ("
	 " id {pk},"
	 " account_id BIGINT NOT NULL REFERENCES accounts(id),"
	 " name TEXT NOT NULL,"
	 " prefix TEXT NOT NULL,"
	 " hash TEXT NOT NULL UNIQUE,"
	 " scopes BIGINT NOT NULL,"
	 " created_by_user BIGINT REFERENCES users(id),"
	 " created_at BIGINT NOT NULL,"
	 " last_used_at BIGINT,"
	 " expires_at BIGINT,"
	 " revoked_at BIGINT);"
	 "CREATE INDEX api_keys_account ON api_keys (account_id);"
	 "CREATE TABLE web_sessions ("
	 " id {pk},"
	 " token_hash TEXT NOT NULL UNIQUE,"
	 " user_id BIGINT NOT NULL REFERENCES users(id),"
	 /* The account acted as: the membership's own or one below it. */
	 " account_id BIGINT NOT NULL REFERENCES accounts(id),"
	 " membership_id BIGINT NOT NULL REFERENCES memberships(id) ON DELETE "
	 "CASCADE,"
	 " csrf TEXT NOT NULL,"
	 " created_at BIGINT NOT NULL,"
	 " expires_at BIGINT NOT NULL);"
	 "CREATE INDEX web_sessions_expires ON web_sessions (expires_at);"
	 "CREATE TABLE audit_log ("
	 " id {pk},"
	 " account_id BIGINT NOT NULL REFERENCES accounts(id),"
	 " actor_type TEXT NOT NULL,"
	 " actor_id BIGINT,"
	 " action TEXT NOT NULL,"
	 " object_type TEXT NOT NULL,"
	 " object_id BIGINT,"
	 " details TEXT NOT NULL,"
	 " ip TEXT,"
	 " request_id TEXT,"
	 " created_at BIGINT NOT NULL);"
	 "CREATE INDEX audit_log_account ON audit_log (account_id, id);"
	 "CREATE TABLE idempotency_keys ("
	 " principal TEXT NOT NULL,"
	 " idem_key TEXT NOT NULL,"
	 " request_hash TEXT NOT NULL,"
	 " status BIGINT NOT NULL,"
	 " body TEXT,"
	 " created_at BIGINT NOT NULL,"
	 " PRIMARY KEY (principal, idem_key));",
	 NULL},
	{2, "tracking number inventory",
	 "CREATE TABLE numbers ("
	 " id {pk},"
	 " account_id BIGINT NOT NULL REFERENCES accounts(id),"
	 " e164 TEXT NOT NULL,"
	 " label TEXT NOT NULL,"
	 " kind TEXT NOT NULL CHECK (kind IN ('pool', 'source', 'offline')),"
	 " source TEXT NOT NULL," /* kind source: the traffic source it is for
				   */
	 " medium TEXT NOT NULL," /* kind source: and the medium, "" for any */
	 " campaign TEXT NOT NULL," /* kind offline: the named campaign */
	 " destination TEXT NOT NULL,"
	 " status TEXT NOT NULL CHECK (status IN ('active', 'inactive', "
	 "'released')),"
	 " number_type TEXT NOT NULL,"
	 " country TEXT NOT NULL,"
	 " created_at BIGINT NOT NULL,"
	 " updated_at BIGINT NOT NULL,"
	 " released_at BIGINT);"
	 /* A number routes to one account at a time; a released number may
	  * be bought again, by anyone. */
	 "CREATE UNIQUE INDEX numbers_e164 ON numbers (e164) WHERE status <> "
	 "'released';"
	 "CREATE INDEX numbers_account ON numbers (account_id, id);",
	 NULL},
	{3, "number pools",
	 "CREATE TABLE pools ("
	 " id {pk},"
	 " account_id BIGINT NOT NULL REFERENCES accounts(id),"
	 " name TEXT NOT NULL,"
	 /* The business numbers to replace on the site: a JSON array of
	  * E.164 strings. */
	 " swap_targets TEXT NOT NULL,"
	 /* Which traffic the pool serves; 'rule': a custom source rule
	  * picks it. */
	 " sources TEXT NOT NULL CHECK (sources IN ('all', 'paid_search', "
	 "'paid_social', 'organic', 'rule')),"
	 " session_ttl BIGINT NOT NULL DEFAULT 1800000," /* ms idle */
	 " cooldown BIGINT NOT NULL DEFAULT 300000,"	 /* ms after release */
	 " policy TEXT NOT NULL DEFAULT 'least_recently_released' CHECK "
	 "(policy IN ('least_recently_released')),"
	 " on_exhausted TEXT NOT NULL DEFAULT 'share_least_recent' CHECK "
	 "(on_exhausted IN ('share_least_recent')),"
	 /* The URL parameters the pool reads ad data from (ValueTrack). */
	 " keyword_param TEXT NOT NULL DEFAULT 'keyword',"
	 " ad_group_param TEXT NOT NULL DEFAULT 'adgroupid',"
	 " campaign_param TEXT NOT NULL DEFAULT 'campaignid',"
	 " matchtype_param TEXT NOT NULL DEFAULT 'matchtype',"
	 " network_param TEXT NOT NULL DEFAULT 'network',"
	 " device_param TEXT NOT NULL DEFAULT 'device',"
	 " status TEXT NOT NULL CHECK (status IN ('active', 'inactive')),"
	 " created_at BIGINT NOT NULL,"
	 " updated_at BIGINT NOT NULL);"
	 "CREATE INDEX pools_account ON pools (account_id, id);"
	 /* A number of kind 'pool' belongs to at most one pool of its own
	  * account (the data layer and rt_dni_number_check hold the rest). */
	 "ALTER TABLE numbers ADD COLUMN pool_id BIGINT REFERENCES pools(id);"
	 "CREATE INDEX numbers_pool ON numbers (pool_id, id);",
	 NULL},
	{4, "site keys, DNI sessions and page views",
	 /* The public key that dni.js names the account with; filled in for
	  * existing accounts by rt_store_site_keys_fill. */
	 "ALTER TABLE accounts ADD COLUMN site_key TEXT;"
	 "CREATE UNIQUE INDEX accounts_site_key ON accounts (site_key);"
	 /* A visit: ids are random (they are public, in the visitor's
	  * cookie), so rows are listed by account and time. */
	 "CREATE TABLE dni_sessions ("
	 " id BIGINT PRIMARY KEY,"
	 " account_id BIGINT NOT NULL REFERENCES accounts(id),"
	 " pool_id BIGINT REFERENCES pools(id),"
	 " number_id BIGINT REFERENCES numbers(id)," /* shown to the visitor */
	 " lease_flags BIGINT NOT NULL DEFAULT 0,"   /* shared, early */
	 " visitor_id TEXT NOT NULL,"
	 " ga_client_id TEXT,"
	 " source TEXT, medium TEXT, campaign TEXT, term TEXT, content TEXT,"
	 " channel TEXT NOT NULL, ad_group TEXT, keyword TEXT,"
	 " campaign_id TEXT, matchtype TEXT, network TEXT, device TEXT,"
	 " click_ids TEXT," /* JSON object */
	 " landing_url TEXT NOT NULL, landing_host TEXT, landing_page TEXT,"
	 " referrer TEXT, referrer_host TEXT, title TEXT,"
	 " user_agent TEXT, device_class TEXT NOT NULL, browser TEXT, os TEXT,"
	 " consent TEXT," /* JSON object as sent */
	 " pageviews BIGINT NOT NULL DEFAULT 1,"
	 " created_at BIGINT NOT NULL,"
	 " last_seen_at BIGINT NOT NULL,"
	 " ended_at BIGINT);"
	 "CREATE INDEX dni_sessions_account ON dni_sessions (account_id, "
	 "created_at);"
	 /* What a restart reloads, and who held a number when. */
	 "CREATE INDEX dni_sessions_open ON dni_sessions (last_seen_at) WHERE "
	 "ended_at IS NULL;"
	 "CREATE INDEX dni_sessions_number ON dni_sessions (number_id, "
	 "created_at);"
	 "CREATE TABLE dni_pageviews ("
	 " id {pk},"
	 " session_id BIGINT NOT NULL REFERENCES dni_sessions(id),"
	 " account_id BIGINT NOT NULL REFERENCES accounts(id),"
	 " url TEXT NOT NULL,"
	 " title TEXT,"
	 " at BIGINT NOT NULL);"
	 "CREATE INDEX dni_pageviews_session ON dni_pageviews (session_id, "
	 "id);",
	 rt_store_site_keys_fill},
	{5, "custom source rules",
	 "CREATE TABLE source_rules ("
	 " id {pk},"
	 " account_id BIGINT NOT NULL REFERENCES accounts(id),"
	 /* 1, 2, ... within the account: the order rules are tried in. */
	 " position BIGINT NOT NULL,"
	 " name TEXT NOT NULL,"
	 /* field and op are checked by rt_dni_rule_check, not here, so that
	  * a new one needs no table rebuild in SQLite. */
	 " field TEXT NOT NULL,"
	 " op TEXT NOT NULL,"
	 " value TEXT NOT NULL,"
	 " case_sensitive BIGINT NOT NULL DEFAULT 0 CHECK (case_sensitive IN "
	 "(0, 1)),"
	 " source_label TEXT NOT NULL,"
	 " medium_label TEXT NOT NULL," /* "" keeps the visit's medium */
	 /* A pool of the rule's own account (the data layer checks that). */
	 " pool_id BIGINT REFERENCES pools(id),"
	 " status TEXT NOT NULL CHECK (status IN ('active', 'inactive')),"
	 " created_at BIGINT NOT NULL,"
	 " updated_at BIGINT NOT NULL);"
	 "CREATE INDEX source_rules_account ON source_rules (account_id, "
	 "position);",
	 NULL},
	{6, "landing pages read from the session's row",
	 /* The landing page view was once a row of its own as well: one
	  * insert per visit that the session's row already answers. */
	 "DELETE FROM dni_pageviews WHERE id IN (SELECT MIN(p.id) FROM "
	 "dni_pageviews p JOIN dni_sessions s ON s.id = p.session_id AND "
	 "p.at = s.created_at AND p.url = s.landing_url GROUP BY "
	 "p.session_id);",
	 NULL},
	{7, "calls, their events and the pages their callers saw",
	 /* A call: ids are given by the call service (in memory, from
	  * rt_store_call_next_id at start), so that the SIP thread never
	  * waits for an insert; the row exists from the INVITE on. */
	 "CREATE TABLE calls ("
	 " id BIGINT PRIMARY KEY,"
	 " account_id BIGINT NOT NULL REFERENCES accounts(id),"
	 " number_id BIGINT REFERENCES numbers(id),"
	 " tracking_number TEXT NOT NULL," /* E.164, as dialled */
	 " number_kind TEXT,"		   /* pool, source, offline */
	 " caller_number TEXT,"		   /* E.164; NULL: withheld */
	 " caller_raw TEXT,"		   /* as the carrier sent it */
	 " caller_location TEXT,"	   /* the geocoder's words */
	 " caller_country TEXT,"	   /* ISO 3166-1 alpha-2 */
	 " caller_line_type TEXT,"	   /* mobile, fixed_line, ... */
	 " destination TEXT, trunk TEXT, sip_call_id TEXT,"
	 " started_at BIGINT NOT NULL, answered_at BIGINT, ended_at BIGINT,"
	 " ring_ms BIGINT, talk_ms BIGINT, total_ms BIGINT,"
	 " disposition TEXT NOT NULL CHECK (disposition IN ('in_progress', "
	 "'answered', 'no_answer', 'busy', 'failed', 'abandoned', "
	 "'interrupted')),"
	 " hangup_side TEXT CHECK (hangup_side IN ('caller', 'callee', "
	 "'system')),"
	 " sip_status BIGINT, sip_reason TEXT,"
	 " first_time BIGINT NOT NULL DEFAULT 0 CHECK (first_time IN (0, 1)),"
	 /* Attribution: how sure, which session(s), and a copy of what the
	  * session knew, so that the call stands alone. */
	 " confidence TEXT NOT NULL CHECK (confidence IN ('exact', 'grace', "
	 "'shared', 'none', 'fixed')),"
	 " dni_session_id BIGINT,"
	 " candidates TEXT," /* JSON array of session ids (shared) */
	 " channel TEXT, source TEXT, medium TEXT, campaign TEXT, term TEXT,"
	 " content TEXT, ad_group TEXT, keyword TEXT, campaign_id TEXT,"
	 " matchtype TEXT, network TEXT, device TEXT, click_ids TEXT,"
	 " landing_url TEXT, landing_host TEXT, landing_page TEXT,"
	 " referrer TEXT, referrer_host TEXT, ga_client_id TEXT, device_class "
	 "TEXT, browser TEXT, os TEXT,"
	 " created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL);"
	 "CREATE INDEX calls_account ON calls (account_id, started_at);"
	 /* First-time callers, and a restart's open calls. */
	 "CREATE INDEX calls_caller ON calls (account_id, caller_number, "
	 "started_at);"
	 "CREATE INDEX calls_open ON calls (started_at) WHERE ended_at IS "
	 "NULL;"
	 "CREATE TABLE call_events ("
	 " id {pk},"
	 " call_id BIGINT NOT NULL REFERENCES calls(id),"
	 " account_id BIGINT NOT NULL REFERENCES accounts(id),"
	 " at BIGINT NOT NULL,"
	 " kind TEXT NOT NULL," /* invite, ringing, answered, dtmf, ... */
	 " detail TEXT);"	/* JSON object */
	 "CREATE INDEX call_events_call ON call_events (call_id, id);"
	 /* The attributed visit's pages in order, copied at call time. */
	 "CREATE TABLE call_pages ("
	 " call_id BIGINT NOT NULL REFERENCES calls(id),"
	 " account_id BIGINT NOT NULL REFERENCES accounts(id),"
	 " position BIGINT NOT NULL,"
	 " url TEXT NOT NULL, title TEXT, at BIGINT NOT NULL,"
	 " PRIMARY KEY (call_id, position));",
	 NULL},
	{8, "call recordings",
	 /* One file per call under recordings_dir; the row outlives a
	  * deletion (deleted_at) so that the API can say the recording was
	  * deleted rather than never made. */
	 "CREATE TABLE recordings ("
	 " id {pk},"
	 " call_id BIGINT NOT NULL UNIQUE REFERENCES calls(id),"
	 " account_id BIGINT NOT NULL REFERENCES accounts(id),"
	 " path TEXT NOT NULL," /* relative to recordings_dir */
	 " format TEXT NOT NULL CHECK (format IN ('opus', 'wav')),"
	 " channels BIGINT NOT NULL,"
	 " sample_rate BIGINT NOT NULL,"
	 " duration_ms BIGINT NOT NULL DEFAULT 0,"
	 " bytes BIGINT NOT NULL DEFAULT 0,"
	 /* 0 while recording, and for what a crash left: kept, readable. */
	 " complete BIGINT NOT NULL DEFAULT 0 CHECK (complete IN (0, 1)),"
	 " created_at BIGINT NOT NULL,"
	 " updated_at BIGINT NOT NULL,"
	 " deleted_at BIGINT);",
	 NULL},
	{9, "per-number recording switch",
	 "ALTER TABLE numbers ADD COLUMN record_calls BIGINT NOT NULL "
	 "DEFAULT 1 CHECK (record_calls IN (0, 1));",
	 NULL},
	{10, "call flows",
	 "CREATE TABLE flows ("
	 " id {pk},"
	 " account_id BIGINT NOT NULL REFERENCES accounts(id),"
	 " name TEXT NOT NULL,"
	 " version BIGINT NOT NULL," /* the latest */
	 " status TEXT NOT NULL CHECK (status IN ('active', 'deleted')),"
	 " created_at BIGINT NOT NULL,"
	 " updated_at BIGINT NOT NULL);"
	 "CREATE INDEX flows_account ON flows (account_id, id);"
	 /* Every saved document: a call names the version it ran. */
	 "CREATE TABLE flow_versions ("
	 " flow_id BIGINT NOT NULL REFERENCES flows(id),"
	 " version BIGINT NOT NULL,"
	 " doc TEXT NOT NULL," /* JSON, docs/flows.md */
	 " created_at BIGINT NOT NULL,"
	 " created_by BIGINT,"
	 " PRIMARY KEY (flow_id, version));"
	 /* Round robin dial steps: where the next call starts. */
	 "CREATE TABLE flow_counters ("
	 " flow_id BIGINT NOT NULL REFERENCES flows(id),"
	 " step TEXT NOT NULL,"
	 " next BIGINT NOT NULL,"
	 " PRIMARY KEY (flow_id, step));"
	 "ALTER TABLE numbers ADD COLUMN flow_id BIGINT REFERENCES flows(id);"
	 "ALTER TABLE pools ADD COLUMN flow_id BIGINT REFERENCES flows(id);"
	 "CREATE INDEX numbers_flow ON numbers (flow_id);"
	 "CREATE INDEX pools_flow ON pools (flow_id);"
	 /* What a flow adds to a call (docs/flows.md, "The call record"). */
	 "ALTER TABLE calls ADD COLUMN flow_id BIGINT;"
	 "ALTER TABLE calls ADD COLUMN flow_version BIGINT;"
	 "ALTER TABLE calls ADD COLUMN flow_path TEXT;" /* JSON array */
	 "ALTER TABLE calls ADD COLUMN ivr_digits TEXT;"
	 "ALTER TABLE calls ADD COLUMN ivr_ms BIGINT;"
	 "ALTER TABLE calls ADD COLUMN agent TEXT;"
	 "ALTER TABLE calls ADD COLUMN tags TEXT;" /* JSON array */
	 "ALTER TABLE calls ADD COLUMN value_cents BIGINT;"
	 "ALTER TABLE calls ADD COLUMN lead TEXT;"
	 "ALTER TABLE calls ADD COLUMN fields TEXT;" /* JSON object */
	 /* The account's switch for recording notices. */
	 "ALTER TABLE accounts ADD COLUMN recording_disclosure BIGINT NOT "
	 "NULL DEFAULT 1 CHECK (recording_disclosure IN (0, 1));",
	 NULL},
	{11, "users' phones, calls that end in voicemail",
	 /* Where a user takes calls that a flow's dial step puts through to
	  * them: E.164 or a sip:/sips: URI; NULL for none. */
	 "ALTER TABLE users ADD COLUMN phone TEXT;", calls_voicemail},
	{12, "uploaded audio for flows' prompts",
	 /* An uploaded file, converted once: 8 kHz mono 16-bit PCM,
	  * little-endian, in the row (ten minutes at most: 9.6 MB). */
	 "CREATE TABLE audio ("
	 " id {pk},"
	 " account_id BIGINT NOT NULL REFERENCES accounts(id),"
	 " name TEXT NOT NULL,"
	 " format TEXT NOT NULL CHECK (format IN ('wav', 'mp3', 'ogg')),"
	 " duration_ms BIGINT NOT NULL,"
	 " bytes BIGINT NOT NULL,"
	 " pcm {blob} NOT NULL,"
	 " created_at BIGINT NOT NULL);"
	 "CREATE INDEX audio_account ON audio (account_id, id);"
	 /* The files each flow's latest version plays, replaced at each
	  * save: a file in use is not deleted. */
	 "CREATE TABLE flow_audio ("
	 " flow_id BIGINT NOT NULL REFERENCES flows(id),"
	 " audio_id BIGINT NOT NULL REFERENCES audio(id),"
	 " PRIMARY KEY (flow_id, audio_id));"
	 "CREATE INDEX flow_audio_audio ON flow_audio (audio_id);",
	 NULL},
	{13, "the durable job queue",
	 /* Work done off the SIP and HTTP threads (src/jobs): at least once,
	  * retried with back-off, failures kept.  A running job holds a
	  * lease; one whose lease ran out (its worker died) is taken again.
	  * ref_id is what the job is about (a call for an analysis). */
	 "CREATE TABLE jobs ("
	 " id {pk},"
	 " account_id BIGINT REFERENCES accounts(id),"
	 " kind TEXT NOT NULL,"
	 " ref_id BIGINT,"
	 " payload TEXT NOT NULL DEFAULT '{}',"
	 " state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done',"
	 "  'failed')),"
	 " attempts BIGINT NOT NULL DEFAULT 0,"
	 " max_attempts BIGINT NOT NULL,"
	 " run_at BIGINT NOT NULL,"
	 " lease_until BIGINT,"
	 " worker TEXT,"
	 " last_error TEXT,"
	 " created_at BIGINT NOT NULL,"
	 " updated_at BIGINT NOT NULL,"
	 " finished_at BIGINT);"
	 "CREATE INDEX jobs_due ON jobs (state, run_at);"
	 "CREATE INDEX jobs_ref ON jobs (kind, ref_id);",
	 NULL},
};

const struct rt_migration *rt_store_migrations(size_t *np)
{
	*np = RT_ARRAY_SIZE(migrations);
	return migrations;
}

static int version_row(const struct rt_val *cols, size_t n, void *arg)
{
	*(unsigned *)arg = n ? (unsigned)rt_col_int(&cols[0]) : 0;
	return 0;
}

static int current_version(struct rt_store_tx *tx, unsigned *vp)
{
	*vp = 0;
	return rt_store_query(tx,
			      "SELECT COALESCE(MAX(version), 0) FROM "
			      "schema_version",
			      NULL, 0, version_row, vp, NULL);
}

static int ensure_version_table(struct rt_store *s)
{
	struct rt_store_tx *tx;
	int err;

	err = rt_store_begin(s, true, &tx);
	if (err)
		return err;
	err = rt_store_tx_script(tx,
				 "CREATE TABLE IF NOT EXISTS schema_version ("
				 " version BIGINT PRIMARY KEY,"
				 " name TEXT NOT NULL,"
				 " applied_at BIGINT NOT NULL)");
	if (err) {
		rt_store_rollback(tx);
		return err;
	}
	return rt_store_commit(tx);
}

int rt_store_schema_version(struct rt_store *s, unsigned *curp,
			    unsigned *latestp)
{
	struct rt_store_tx *tx;
	int err;

	*latestp = migrations[RT_ARRAY_SIZE(migrations) - 1].version;
	err = ensure_version_table(s);
	if (err)
		return err;
	err = rt_store_begin(s, false, &tx);
	if (err)
		return err;
	err = current_version(tx, curp);
	rt_store_rollback(tx);
	return err;
}

int rt_store_migrate(struct rt_store *s, unsigned *appliedp)
{
	return rt_store_migrate_to(
		s, migrations[RT_ARRAY_SIZE(migrations) - 1].version, appliedp);
}

int rt_store_migrate_to(struct rt_store *s, unsigned version,
			unsigned *appliedp)
{
	unsigned applied = 0,
		 latest = migrations[RT_ARRAY_SIZE(migrations) - 1].version;
	int err;

	err = ensure_version_table(s);
	if (err)
		return err;
	for (size_t i = 0; i < RT_ARRAY_SIZE(migrations); i++) {
		const struct rt_migration *m = &migrations[i];
		struct rt_store_tx *tx;
		unsigned cur;

		if (m->version > version)
			break;

		/* Each step re-reads the version inside its write transaction,
		 * so two processes migrating at once apply each step once. */
		err = rt_store_begin(s, true, &tx);
		if (err)
			return err;
		err = current_version(tx, &cur);
		if (!err && cur > latest) {
			rt_error("database is newer than this binary",
				 "schema=%u known=%u", cur, latest);
			err = EPROTO;
		}
		if (err || cur >= m->version) {
			rt_store_rollback(tx);
			if (err)
				return err;
			continue;
		}
		err = rt_store_tx_script(tx, m->sql);
		if (!err && m->post)
			err = m->post(tx);
		if (!err) {
			struct rt_val args[] = {RT_VINT(m->version),
						RT_VTEXT(m->name),
						RT_VINT(rt_now_ms())};

			err = rt_store_query(
				tx,
				"INSERT INTO schema_version (version, "
				"name, applied_at) VALUES (?1, ?2, ?3)",
				args, 3, NULL, NULL, NULL);
		}
		if (err) {
			rt_store_rollback(tx);
			rt_error("migration failed", "version=%u", m->version);
			return err;
		}
		err = rt_store_commit(tx);
		if (err)
			return err;
		rt_info("migrated", "version=%u name=\"%s\"", m->version,
			m->name);
		applied++;
	}
	if (appliedp)
		*appliedp = applied;
	return 0;
}
