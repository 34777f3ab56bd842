import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';

/** The wallet module's SQL: deposit-address indexes and the stored development keys. Balances and history are the ledger's. */
@Injectable()
export class WalletRepository {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  /** Stores `value` under `key` unless a value is there already, and returns the stored one. */
  async settingOnce<T>(key: string, value: T): Promise<T> {
    await this.ds.query(`INSERT INTO system_settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING`, [key, JSON.stringify(value)]);
    const [row] = await this.ds.query(`SELECT value FROM system_settings WHERE key = $1`, [key]);
    return row.value as T;
  }

  /** The user's BIP32 child index, assigned on first use. */
  async addressIndex(userId: string): Promise<number> {
    await this.ds.query(`INSERT INTO wallet_address_indexes (user_id) VALUES ($1) ON CONFLICT (user_id) DO NOTHING`, [userId]);
    const [row] = await this.ds.query(`SELECT address_index FROM wallet_address_indexes WHERE user_id = $1`, [userId]);
    return Number(row.address_index);
  }
}
