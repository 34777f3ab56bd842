import { ConnectedSocket, MessageBody, SubscribeMessage } from '@nestjs/websockets';
import type { Socket } from 'socket.io';
import { RealtimeGateway, ok } from '../../core/realtime/realtime-gateway.decorator';
import { TradingRoomDto } from './dto/trading.dto';
import { MarketDataService } from './market-data.service';
import { PairsService } from './pairs.service';
import { tradingRoom } from './trading.events';

/**
 * `join_trading_room {tradingPairId}`: this socket starts hearing the pair's `orderbook_update`
 * and `trade_executed`. The ack carries a snapshot taken after joining, so every update with a
 * greater sequence applies on top of it (none is lost between the snapshot and the first event).
 */
@RealtimeGateway()
export class TradingGateway {
  constructor(
    private readonly pairs: PairsService,
    private readonly market: MarketDataService,
  ) {}

  @SubscribeMessage('join_trading_room')
  async join(@ConnectedSocket() socket: Socket, @MessageBody() dto: TradingRoomDto) {
    const pair = await this.pairs.get(dto.tradingPairId ?? dto.pairId);
    await socket.join(tradingRoom(pair.id));
    const orderbook = await this.market.orderBook(pair.id, dto.depth);
    return ok({ pairId: pair.id, joined: true, orderbook });
  }

  @SubscribeMessage('leave_trading_room')
  async leave(@ConnectedSocket() socket: Socket, @MessageBody() dto: TradingRoomDto) {
    const pair = await this.pairs.get(dto.tradingPairId ?? dto.pairId);
    await socket.leave(tradingRoom(pair.id));
    return ok({ pairId: pair.id, joined: false });
  }
}
