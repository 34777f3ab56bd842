/**
 * The wire shapes of the views some events carry. Core imports nothing from `modules/`, so
 * these restate what clients receive; each module's view type must stay assignable to its
 * shape here (the compiler checks it where the module announces the event).
 */
export interface ChatMessageWire {
  id: string;
  roomId: string;
  seq: number;
  senderId: string | null;
  senderUsername: string | null;
  content: string;
  clientMessageId: string | null;
  createdAt: string;
}

/** The contract's Order (src/modules/trading). Money and quantities as decimal strings. */
export interface OrderWire {
  id: string;
  userId: string;
  pairId: string;
  side: string;
  type: string;
  timeInForce: string;
  price: string | null;
  quantity: string;
  filledQuantity: string;
  remainingQuantity: string;
  averagePrice: string | null;
  quoteQuantity: string;
  fee: string;
  feeAsset: string;
  status: string;
  cancelReason: string | null;
  clientOrderId: string | null;
  expiresAt: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface NotificationWire {
  id: string;
  userId: string;
  type: string;
  title: string;
  body: string;
  data: Record<string, unknown>;
  read: boolean;
  readAt: string | null;
  createdAt: string;
}

/** One asset's balance (src/modules/ledger), as decimal strings. */
export interface BalanceWire {
  asset: string;
  available: string;
  held: string;
  total: string;
}

/** A committed ledger movement as its parties see it. */
export interface TransactionDetailsWire {
  type: string;
  asset: string;
  amount: string;
  fromUserId: string | null;
  toUserId: string | null;
  reference: string | null;
  createdAt: string;
}

/**
 * The typed map of Socket.IO events the server emits (CONTRACT.md §4). Feature modules add
 * their payload types here as they land; the publisher only accepts events listed here.
 */
export interface ServerToClientEvents {
  message_received: { roomId: string; message: ChatMessageWire };
  user_joined: { roomId: string; userId: string };
  user_left: { roomId: string; userId: string };
  typing_started: { roomId: string; userId: string };
  typing_stopped: { roomId: string; userId: string };
  order_update: { orderId: string; status: string; data: OrderWire };
  /** `change` is the 24 h change in percent. */
  price_update: { symbol: string; price: string; change: string; currency?: string; source?: string; updatedAt?: string };
  orderbook_update: { pairId: string; sequence: number; bids: [string, string][]; asks: [string, string][] };
  /** `side` is the taker's. */
  trade_executed: { id?: string; pairId: string; price: string; quantity: string; quoteAmount?: string; side: string; at: string };
  new_notification: { notification: NotificationWire };
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
  balance_update: { userId: string; balances: BalanceWire[] };
  transaction_complete: { transactionId: string; details: TransactionDetailsWire };
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
