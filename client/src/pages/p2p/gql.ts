/** GraphQL documents of the P2P page (REST does the reads and writes; GraphQL carries the live updates). */

export const ESCROW_FIELDS = `id offerId sellerId buyerId asset amount fee price fiatCurrency fiatAmount paymentMethod
  paymentWindowSeconds status paymentDeadline releaseDeadline paidAt disputedAt releasedAt cancelledAt refundedAt
  cancelReason chatRoomId createdAt updatedAt dispute { openedBy openedByRole reason openedAt outcome resolutionNote resolvedAt }`;

export const ESCROW_UPDATED = `subscription EscrowUpdated($escrowId: ID!) { escrowUpdated(escrowId: $escrowId) { ${ESCROW_FIELDS} } }`;

export const MESSAGE_ADDED = `subscription TradeMessage($roomId: ID!) {
  messageAdded(roomId: $roomId) { id roomId senderId senderUsername content seq createdAt clientMessageId }
}`;
