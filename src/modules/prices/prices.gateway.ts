import { ConnectedSocket, MessageBody, SubscribeMessage } from '@nestjs/websockets';
import type { Socket } from 'socket.io';
import { RealtimeGateway, ok } from '../../core/realtime/realtime-gateway.decorator';
import { SymbolsDto } from './dto/prices.dto';
import { PricesService } from './prices.service';
import { pricesRoom } from './prices.events';

/** `subscribe_prices {symbols}`: `price_update` for those assets; the ack carries the current prices. */
@RealtimeGateway()
export class PricesGateway {
  constructor(private readonly prices: PricesService) {}

  @SubscribeMessage('subscribe_prices')
  async subscribe(@ConnectedSocket() socket: Socket, @MessageBody() dto: SymbolsDto) {
    const symbols = this.prices.symbols(dto.symbols);
    await socket.join(symbols.map(pricesRoom));
    return ok({ symbols, prices: await this.prices.list(symbols) });
  }

  @SubscribeMessage('unsubscribe_prices')
  async unsubscribe(@ConnectedSocket() socket: Socket, @MessageBody() dto: SymbolsDto) {
    const symbols = this.prices.symbols(dto.symbols);
    for (const s of symbols) await socket.leave(pricesRoom(s));
    return ok({ symbols, subscribed: false });
  }
}
