/**
 * The typed map of Socket.IO events the server emits (CONTRACT.md §4). Feature modules add
 * their payload types here as they land; the publisher only accepts events listed here.
 */
export interface ServerToClientEvents {
  message_received: { roomId: string; message: unknown };
  user_joined: { roomId: string; userId: string };
  user_left: { roomId: string; userId: string };
  typing_started: { roomId: string; userId: string };
  typing_stopped: { roomId: string; userId: string };
  order_update: { orderId: string; status: string; data: unknown };
  /** `change` is the 24 h change in percent. */
  price_update: { symbol: string; price: string; change: string; currency?: string; source?: string; updatedAt?: string };
  orderbook_update: { pairId: string; sequence: number; bids: [string, string][]; asks: [string, string][] };
  /** `side` is the taker's. */
  trade_executed: { id?: string; pairId: string; price: string; quantity: string; quoteAmount?: string; side: string; at: string };
  new_notification: { notification: unknown };
  /** `status` is online, away or busy (a change between these is announced too). */
  user_online: { userId: string; status?: string };
  user_offline: { userId: string; lastSeenAt: string };
  viewer_count_update: { videoId: string; count: number };
  /** Full tallies every time (coalesced: a few per second per battle); `status`, `winnerId`, `endsAt` added for clients. */
  battle_update: {
    battleId: string;
    votes: { userId: string; votes: number }[];
    viewerCount: number;
    status?: 'live' | 'ended';
    winnerId?: string | null;
    endsAt?: string;
  };
  /** `winnerId` null on a draw or without votes; `resultHash`: SHA-256 of the vote log (GET /api/battles/:id/votes/log). */
  battle_ended: { battleId: string; winnerId: string | null; resultHash: string; winnerIds?: string[] };
  balance_update: { userId: string; balances: unknown[] };
  transaction_complete: { transactionId: string; details: unknown };
  reward_earned: {
    userId: string;
    reward: { id: string; action: string; targetId: string | null; amount: string; asset: 'SOFT'; status: 'paid'; createdAt: string; paidAt: string | null };
  };
  /** A P2P escrow changed (src/modules/p2p): to both parties. Money as decimal strings; the view carries more fields. */
  escrow_update: {
    escrow: {
      id: string;
      offerId: string | null;
      sellerId: string;
      buyerId: string;
      asset: string;
      amount: string;
      fiatCurrency: string;
      fiatAmount: string;
      status: 'awaiting_payment' | 'paid' | 'disputed' | 'released' | 'cancelled' | 'refunded';
      paymentDeadline: string;
      releaseDeadline: string | null;
      createdAt: string;
      updatedAt: string;
    };
  };
  /** A tip to the creator (src/modules/creator): to the creator's sockets. `amount` is gross; `net` = amount − fee. */
  tip_received: {
    tip: {
      id: string;
      creatorId: string;
      fromUserId: string;
      fromUsername: string;
      asset: string;
      amount: string;
      fee: string;
      net: string;
      message: string | null;
      videoId: string | null;
      createdAt: string;
    };
  };
  /** A payment (top-up) of the user changed (src/modules/payments): the Payment of the contract. */
  payment_update: {
    payment: {
      id: string;
      userId: string;
      provider: string;
      asset: string;
      amount: string;
      status: 'pending' | 'succeeded' | 'failed' | 'expired' | 'refunded';
      checkoutUrl: string | null;
      providerRef: string | null;
      amountPaid: string;
      flagged: boolean;
      createdAt: string;
      updatedAt: string;
      completedAt: string | null;
    };
  };
  /** The caller's account changed (roles updated by an admin). */
  user_updated: { user: { id: string; username: string; email: string; roles: string[] } };
  /** Sent just before the server disconnects a socket whose session was revoked. */
  session_revoked: { reason: string };
}

export type ServerEvent = keyof ServerToClientEvents;

export const userRoom = (userId: string) => `user:${userId}`;
/** Every socket of one login session (a refresh-token family), on every instance. */
export const sessionRoom = (sessionId: string) => `session:${sessionId}`;

export interface Ack<T = unknown> {
  ok: boolean;
  data?: T;
  error?: { code: string; message: string; details?: unknown };
}
