import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Set-based posting (issue 16, "group commit for money"): `ledger_post_batch(items jsonb)` posts
 * many transfers in ONE statement — one round trip and, in autocommit, one commit (one WAL
 * flush) for all of them — while each transfer stays atomic on its own and keyed for idempotency.
 *
 * An item is a JSON object:
 *   g  group number: consecutive items with the same g are a *linked group* (all or nothing)
 *   k  idempotency key          t  kind            a  asset          m  amount (minor units, text)
 *   d  debit account  {k: account_key, u: user id | null, p: purpose, n: allow_negative}
 *   c  credit account (same shape)
 *   h  hold id (instead of d: posts from the hold, as ledger_post with p_release)   f  final (release the rest)
 *   r  reference               x  metadata (jsonb)
 *   rp (in a linked group) the reference is the previous leg's transfer id (a fee names its transfer)
 * Accounts are resolved by key and created on first use (never for a user that does not exist:
 * that item gets `account_not_found`). Then the function locks every hold and then every account
 * the batch touches, each in id order and each in one statement (the order ledger_post, postHold
 * and voidHold already take: hold, then accounts), before it changes any balance, so concurrent
 * batches from any number of instances queue instead of deadlocking.
 *
 * One result row per item (o_i = its index): the transfer's id and time, `o_replayed` when its
 * key was used before (nothing moved; the stored transfer's kind/asset/amount/accounts come back
 * so the caller can tell a replay from a key reused for another movement), or `o_err`:
 * insufficient_funds, account_not_found, hold_not_found, hold_posted, hold_voided, hold_exceeded,
 * asset_mismatch, same_account, key_reused (the key names another movement) — or `linked` for the other legs of a linked group one of whose
 * legs failed. A refused item writes nothing and never fails its neighbours: a single item is
 * checked before it writes (no subtransaction); a linked group runs in a subtransaction
 * (BEGIN … EXCEPTION) that rolls back all its legs when one is refused.
 */
export class LedgerBatch1764231600000 implements MigrationInterface {
  name = 'LedgerBatch1764231600000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TYPE ledger_post_result AS (
        o_i int, o_id uuid, o_created timestamptz, o_replayed boolean, o_err text,
        o_debit uuid, o_credit uuid, o_debit_user uuid, o_credit_user uuid,
        o_debit_after numeric, o_credit_after numeric,
        o_kind text, o_asset text, o_amount numeric, o_debit_was uuid, o_credit_was uuid
      )`);

    /*
     * A key seen before: the stored transfer, as a replay — or 'key_reused' when the key was
     * used for another movement (kind, asset, amount or accounts differ), so a linked group
     * rolls back whole instead of half-replaying.
     */
    await q.query(`
      CREATE FUNCTION ledger_replay(r ledger_post_result, t ledger_transfers, e jsonb) RETURNS ledger_post_result
      LANGUAGE plpgsql AS $$
      BEGIN
        r.o_kind := t.kind; r.o_asset := t.asset; r.o_amount := t.amount; r.o_debit_was := t.debit_account_id; r.o_credit_was := t.credit_account_id;
        IF t.kind <> e->>'t' OR t.asset <> e->>'a' OR t.amount <> (e->>'m')::numeric
           OR t.debit_account_id IS DISTINCT FROM r.o_debit OR t.credit_account_id IS DISTINCT FROM r.o_credit THEN
          r.o_err := 'key_reused';
          RETURN r;
        END IF;
        r.o_id := t.id; r.o_created := t.created_at; r.o_replayed := true;
        RETURN r;
      END $$`);

    /*
     * One item, with its accounts (and hold) already locked by the caller. Returns o_err instead
     * of raising for every refusal, and refuses before it writes anything — except a key claimed
     * concurrently by another transaction (seen only at the INSERT), where it puts both balances
     * back (the rows are locked, so this is exact) and answers as a replay.
     */
    await q.query(`
      CREATE FUNCTION ledger_post_item(e jsonb) RETURNS ledger_post_result
      LANGUAGE plpgsql AS $$
      DECLARE
        r ledger_post_result;
        h ledger_holds%ROWTYPE;
        t ledger_transfers%ROWTYPE;
        v_key text := e->>'k';
        v_asset text := e->>'a';
        v_amount numeric := (e->>'m')::numeric;
        v_hold uuid := (e->>'h')::uuid;
        v_left numeric;
        v_release numeric := 0;
      BEGIN
        r.o_replayed := false;
        SELECT a.id, a.user_id INTO r.o_credit, r.o_credit_user FROM ledger_accounts a WHERE a.account_key = e->'c'->>'k';
        IF v_hold IS NOT NULL THEN
          SELECT * INTO h FROM ledger_holds WHERE id = v_hold;
          IF NOT FOUND THEN
            r.o_err := 'hold_not_found';
            RETURN r;
          END IF;
          r.o_debit := h.account_id;
          SELECT a.user_id INTO r.o_debit_user FROM ledger_accounts a WHERE a.id = h.account_id;
        ELSE
          SELECT a.id, a.user_id INTO r.o_debit, r.o_debit_user FROM ledger_accounts a WHERE a.account_key = e->'d'->>'k';
        END IF;

        SELECT * INTO t FROM ledger_transfers WHERE idempotency_key = v_key;
        IF FOUND THEN
          RETURN ledger_replay(r, t, e);
        END IF;

        IF r.o_debit IS NULL OR r.o_credit IS NULL THEN
          r.o_err := 'account_not_found';
          RETURN r;
        END IF;
        IF r.o_debit = r.o_credit THEN
          r.o_err := 'same_account';
          RETURN r;
        END IF;

        IF v_hold IS NOT NULL THEN
          IF h.asset <> v_asset THEN
            r.o_err := 'asset_mismatch';
            RETURN r;
          END IF;
          IF h.status <> 'pending' THEN
            r.o_err := 'hold_' || h.status;
            RETURN r;
          END IF;
          IF v_amount > h.remaining THEN
            r.o_err := 'hold_exceeded';
            RETURN r;
          END IF;
          v_left := h.remaining - v_amount;
          IF COALESCE((e->>'f')::boolean, false) THEN
            v_release := v_left;
          END IF;
          UPDATE ledger_accounts SET posted = posted - v_amount, held = held - v_amount - v_release, updated_at = now()
            WHERE id = r.o_debit RETURNING posted INTO r.o_debit_after;
        ELSE
          UPDATE ledger_accounts SET posted = posted - v_amount, updated_at = now()
            WHERE id = r.o_debit AND (allow_negative OR posted - held >= v_amount) RETURNING posted INTO r.o_debit_after;
          IF r.o_debit_after IS NULL THEN
            r.o_err := 'insufficient_funds';
            RETURN r;
          END IF;
        END IF;
        UPDATE ledger_accounts SET posted = posted + v_amount, updated_at = now() WHERE id = r.o_credit RETURNING posted INTO r.o_credit_after;

        INSERT INTO ledger_transfers (idempotency_key, kind, debit_account_id, credit_account_id, asset, amount, hold_id, reference, metadata)
        VALUES (v_key, e->>'t', r.o_debit, r.o_credit, v_asset, v_amount, v_hold,
                CASE WHEN v_hold IS NULL THEN e->>'r' ELSE COALESCE(e->>'r', h.reference) END, NULLIF(e->'x', 'null'::jsonb))
        ON CONFLICT (idempotency_key) DO NOTHING
        RETURNING id, created_at INTO r.o_id, r.o_created;
        IF r.o_id IS NULL THEN
          -- Another transaction committed this key while we waited on it: undo and replay.
          UPDATE ledger_accounts SET posted = posted - v_amount WHERE id = r.o_credit;
          UPDATE ledger_accounts SET posted = posted + v_amount,
                 held = held + CASE WHEN v_hold IS NULL THEN 0 ELSE v_amount + v_release END
            WHERE id = r.o_debit;
          SELECT * INTO t FROM ledger_transfers WHERE idempotency_key = v_key;
          r.o_debit_after := NULL; r.o_credit_after := NULL;
          RETURN ledger_replay(r, t, e);
        END IF;

        IF v_hold IS NOT NULL THEN
          UPDATE ledger_holds SET remaining = v_left - v_release,
                 status = CASE WHEN v_left - v_release = 0 THEN 'posted' ELSE 'pending' END, updated_at = now()
            WHERE id = v_hold;
        END IF;
        INSERT INTO ledger_entries (transfer_id, account_id, counterparty_account_id, asset, amount, balance_after)
        VALUES (r.o_id, r.o_debit, r.o_credit, v_asset, -v_amount, r.o_debit_after),
               (r.o_id, r.o_credit, r.o_debit, v_asset, v_amount, r.o_credit_after);
        RETURN r;
      END $$`);

    await q.query(`
      CREATE FUNCTION ledger_post_batch(p_items jsonb) RETURNS SETOF ledger_post_result
      LANGUAGE plpgsql AS $$
      DECLARE
        v_n int := jsonb_array_length(p_items);
        v_i int := 0;
        v_j int;
        v_k int;
        v_g text;
        r ledger_post_result;
        v_group ledger_post_result[];
        v_err text;
        v_at int;
      BEGIN
        -- Accounts on first use, in key order (two batches creating the same accounts queue on
        -- the first one instead of each holding one the other needs).
        INSERT INTO ledger_accounts (account_key, owner_type, user_id, purpose, asset, allow_negative)
        SELECT s.k, CASE WHEN s.u IS NULL THEN 'system' ELSE 'user' END, s.u, s.p, s.a, s.n
        FROM (
          SELECT DISTINCT ON (x->>'k') x->>'k' AS k, (x->>'u')::uuid AS u, x->>'p' AS p, e->>'a' AS a, COALESCE((x->>'n')::boolean, false) AS n
          FROM jsonb_array_elements(p_items) e, LATERAL (VALUES (e->'d'), (e->'c')) v(x)
          WHERE jsonb_typeof(x) = 'object'
          ORDER BY x->>'k'
        ) s
        WHERE NOT EXISTS (SELECT 1 FROM ledger_accounts la WHERE la.account_key = s.k)
          AND (s.u IS NULL OR EXISTS (SELECT 1 FROM users WHERE users.id = s.u))
        ORDER BY s.k
        ON CONFLICT (account_key) DO NOTHING;

        -- Every hold, then every account the batch touches: each in id order, in one statement.
        PERFORM 1 FROM ledger_holds
          WHERE id IN (SELECT (e->>'h')::uuid FROM jsonb_array_elements(p_items) e WHERE e->>'h' IS NOT NULL)
          ORDER BY id FOR UPDATE;
        PERFORM 1 FROM ledger_accounts
          WHERE account_key IN (SELECT x->>'k' FROM jsonb_array_elements(p_items) e, LATERAL (VALUES (e->'d'), (e->'c')) v(x) WHERE jsonb_typeof(x) = 'object')
             OR id IN (SELECT hl.account_id FROM ledger_holds hl
                       WHERE hl.id IN (SELECT (e->>'h')::uuid FROM jsonb_array_elements(p_items) e WHERE e->>'h' IS NOT NULL))
          ORDER BY id FOR UPDATE;

        WHILE v_i < v_n LOOP
          v_g := p_items->v_i->>'g';
          v_j := v_i;
          WHILE v_j + 1 < v_n AND (p_items->(v_j + 1)->>'g') IS NOT DISTINCT FROM v_g LOOP
            v_j := v_j + 1;
          END LOOP;
          IF v_j = v_i THEN
            r := ledger_post_item(p_items->v_i);
            r.o_i := v_i;
            RETURN NEXT r;
          ELSE
            v_group := '{}';
            v_err := NULL;
            BEGIN
              FOR v_k IN v_i..v_j LOOP
                IF (p_items->v_k->>'rp') IS NOT NULL AND v_k > v_i THEN
                  -- 'rp': this leg's reference is the previous leg's transfer (a fee names its transfer).
                  r := ledger_post_item(jsonb_set(p_items->v_k, '{r}', to_jsonb((v_group[v_k - v_i]).o_id::text)));
                ELSE
                  r := ledger_post_item(p_items->v_k);
                END IF;
                r.o_i := v_k;
                v_group := v_group || r;
                IF r.o_err IS NOT NULL THEN
                  v_err := r.o_err;
                  v_at := v_k;
                  RAISE EXCEPTION 'linked group refused' USING ERRCODE = 'SC409';
                END IF;
              END LOOP;
            EXCEPTION WHEN SQLSTATE 'SC409' THEN
              NULL; -- every leg of the group is rolled back
            END;
            IF v_err IS NULL THEN
              FOREACH r IN ARRAY v_group LOOP
                RETURN NEXT r;
              END LOOP;
            ELSE
              FOR v_k IN v_i..v_j LOOP
                r := NULL;
                r.o_i := v_k;
                r.o_replayed := false;
                r.o_err := CASE WHEN v_k = v_at THEN v_err ELSE 'linked' END;
                RETURN NEXT r;
              END LOOP;
            END IF;
          END IF;
          v_i := v_j + 1;
        END LOOP;
      END $$`);

    /*
     * A hold in ONE statement (it was three round trips: account, hold row, reserve): the account
     * is created on first use, the key is checked (a replay returns the hold; another account,
     * asset or amount under the same key is 'key_reused'), the available balance is reserved by a
     * guarded UPDATE ('insufficient_funds' writes nothing), then the hold row is written. A key
     * claimed concurrently (seen at the INSERT) gives the reservation back and answers as a replay.
     */
    await q.query(`
      CREATE FUNCTION ledger_hold(p_key text, p_kind text, p_account jsonb, p_asset text, p_amount numeric, p_reference text,
                                  OUT o_err text, OUT o_replayed boolean, OUT o_user uuid, OUT o_hold ledger_holds)
      LANGUAGE plpgsql AS $$
      DECLARE
        v_acc uuid;
      BEGIN
        o_replayed := false;
        SELECT a.id, a.user_id INTO v_acc, o_user FROM ledger_accounts a WHERE a.account_key = p_account->>'k';
        IF v_acc IS NULL THEN
          INSERT INTO ledger_accounts (account_key, owner_type, user_id, purpose, asset, allow_negative)
          SELECT p_account->>'k', CASE WHEN p_account->>'u' IS NULL THEN 'system' ELSE 'user' END, (p_account->>'u')::uuid,
                 p_account->>'p', p_asset, COALESCE((p_account->>'n')::boolean, false)
          WHERE p_account->>'u' IS NULL OR EXISTS (SELECT 1 FROM users WHERE users.id = (p_account->>'u')::uuid)
          ON CONFLICT (account_key) DO NOTHING;
          SELECT a.id, a.user_id INTO v_acc, o_user FROM ledger_accounts a WHERE a.account_key = p_account->>'k';
          IF v_acc IS NULL THEN
            o_err := 'account_not_found';
            RETURN;
          END IF;
        END IF;

        SELECT * INTO o_hold FROM ledger_holds WHERE idempotency_key = p_key;
        IF FOUND THEN
          IF o_hold.account_id <> v_acc OR o_hold.asset <> p_asset OR o_hold.amount <> p_amount THEN
            o_err := 'key_reused';
          ELSE
            o_replayed := true;
          END IF;
          RETURN;
        END IF;

        UPDATE ledger_accounts SET held = held + p_amount, updated_at = now()
          WHERE id = v_acc AND (allow_negative OR posted - held >= p_amount);
        IF NOT FOUND THEN
          o_err := 'insufficient_funds';
          RETURN;
        END IF;
        INSERT INTO ledger_holds (idempotency_key, account_id, asset, amount, remaining, kind, reference)
        VALUES (p_key, v_acc, p_asset, p_amount, p_amount, p_kind, p_reference)
        ON CONFLICT (idempotency_key) DO NOTHING
        RETURNING * INTO o_hold;
        IF o_hold.id IS NULL THEN
          UPDATE ledger_accounts SET held = held - p_amount WHERE id = v_acc;
          SELECT * INTO o_hold FROM ledger_holds WHERE idempotency_key = p_key;
          IF o_hold.account_id <> v_acc OR o_hold.asset <> p_asset OR o_hold.amount <> p_amount THEN
            o_err := 'key_reused';
          ELSE
            o_replayed := true;
          END IF;
        END IF;
      END $$`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION ledger_hold(text, text, jsonb, text, numeric, text)`);
    await q.query(`DROP FUNCTION ledger_post_batch(jsonb)`);
    await q.query(`DROP FUNCTION ledger_post_item(jsonb)`);
    await q.query(`DROP FUNCTION ledger_replay(ledger_post_result, ledger_transfers, jsonb)`);
    await q.query(`DROP TYPE ledger_post_result`);
  }
}
