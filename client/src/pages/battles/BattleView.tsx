import { useCallback, useEffect, useState } from 'react';
import { Link } from 'react-router-dom';
import { api, errorText } from '../../lib/api';
import { onReconnect } from '../../lib/connection';
import { emitAck, getSocket, useSocketEvent } from '../../lib/socket';
import { Button, Countdown, ErrorState, Loading, Page } from '../../lib/ui';
import { useLive } from '../live';
import { applyUpdate, isAlreadyVoted, mergeBattle, share, totalVotes, votesText, winnerName, type Battle, type BattleUpdate } from './tally';

const BATTLE_UPDATED = `subscription BattleUpdated($battleId: ID!) {
  battleUpdated(battleId: $battleId) { battleId votes { userId votes } viewerCount status winnerId endsAt }
}`;

/** One battle: live tallies, vote buttons, viewers, countdown and the winner. */
export function BattleView({ battleId }: { battleId: string }) {
  const [battle, setBattle] = useState<Battle | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [voting, setVoting] = useState<string | null>(null);
  const [voteError, setVoteError] = useState<string | null>(null);

  const load = useCallback(async () => {
    setError(null);
    try {
      const b = await api<Battle>(`/battles/${battleId}`);
      setBattle((prev) => mergeBattle(prev, b));
    } catch (e) {
      setError(e);
    }
  }, [battleId]);
  useEffect(() => {
    setBattle(null);
    void load();
  }, [load]);

  // Updates sent while a live channel was down are not replayed: read the battle again after a reconnect.
  useEffect(() => onReconnect(() => void load()), [load]);

  const apply = useCallback(
    (u: BattleUpdate) => {
      setBattle((b) => {
        if (!b) return b;
        const next = applyUpdate(b, u);
        // The end brings the result hash and the final tallies: read them once.
        if (b.status === 'live' && next.status === 'ended') void load();
        return next;
      });
    },
    [load],
  );
  useLive<{ battleUpdated: BattleUpdate }>(BATTLE_UPDATED, { battleId }, (d) => apply(d.battleUpdated));

  // Joining the battle's room over the socket is what counts this viewer.
  const join = useCallback(() => {
    emitAck<Battle>('join_battle', { battleId })
      .then((b) => b && apply({ battleId, viewerCount: b.viewerCount, votes: b.participants?.map((p) => ({ userId: p.userId, votes: p.votes })) }))
      .catch(() => undefined);
  }, [battleId, apply]);
  // Joined once the battle is loaded: the join's answer (which counts this viewer) then lands on
  // it, rather than being dropped before the load and overwritten by an older read.
  const loaded = battle !== null;
  useEffect(() => {
    if (!loaded) return;
    join();
    return () => {
      getSocket().emit('leave_battle', { battleId });
    };
  }, [join, battleId, loaded]);
  useSocketEvent('connect', join);

  async function vote(participantId: string) {
    setVoting(participantId);
    setVoteError(null);
    try {
      const b = await api<Battle>(`/battles/${battleId}/votes`, { body: { participantId } });
      setBattle((prev) => mergeBattle(prev, { ...b, myVote: b.myVote ?? participantId }));
    } catch (e) {
      if (isAlreadyVoted(e)) {
        setVoteError('You have already voted in this battle (ALREADY_VOTED): one vote per person.');
      } else setVoteError(errorText(e));
    } finally {
      setVoting(null);
    }
  }

  if (error) return <Page title="Battle"><ErrorState error={error} retry={() => void load()} /><Link to="/battles">All battles</Link></Page>;
  if (!battle) return <Page title="Battle"><Loading label="Loading battle…" /></Page>;
  const winner = winnerName(battle);
  const live = battle.status === 'live';
  const mine = battle.participants.find((p) => p.userId === battle.myVote);
  return (
    <Page title={battle.title} actions={<Link to="/battles">All battles</Link>}>
      {battle.status === 'ended' && (
        <p className="banner" role="status">
          {winner ? `Winner: ${winner}` : totalVotes(battle) === 0 ? 'The battle ended without votes' : 'The battle ended in a draw'}
        </p>
      )}
      <p className="row" style={{ alignItems: 'center' }}>
        <span role="status" data-testid="battle-viewers">
          {battle.viewerCount} watching
        </span>
        {live ? (
          <span>
            · Ends in <Countdown until={battle.endsAt} label="Battle ends in" />
          </span>
        ) : (
          <span className="muted">· Ended</span>
        )}
        {battle.prize && (
          <span>
            · Prize {battle.prize.amount} {battle.prize.asset}
          </span>
        )}
      </p>
      <ul className="grid grid-2" aria-label="Participants" style={{ listStyle: 'none', padding: 0 }}>
        {battle.participants.map((p) => (
          <li key={p.userId} className="card stack">
            <h2>
              <Link to={`/creator/${p.userId}`}>{p.username}</Link>
              {battle.winnerId === p.userId && !live ? ' 🏆' : ''}
            </h2>
            <div className="tally">
              <strong aria-live="polite">{votesText(p.votes)}</strong>
              <div className="track" aria-hidden="true">
                <div className="bar" style={{ width: `${share(battle, p)}%` }} />
              </div>
            </div>
            {live && (
              <div>
                <Button variant="primary" busy={voting === p.userId} onClick={() => void vote(p.userId)}>
                  Vote for {p.username}
                </Button>
              </div>
            )}
          </li>
        ))}
      </ul>
      {mine && <p>You voted for {mine.username}.</p>}
      {voteError && (
        <p role="alert" className="error">
          {voteError}
        </p>
      )}
      {battle.resultHash && (
        <p className="muted">
          Result hash (SHA-256 of the vote log): <code>{battle.resultHash}</code>
        </p>
      )}
    </Page>
  );
}
