import { useEffect, useRef } from 'react';
import { CandlestickSeries, ColorType, createChart, type IChartApi, type ISeriesApi, type UTCTimestamp } from 'lightweight-charts';
import { useClient } from 'urql';

type Kline = { openTime: string; open: string; high: string; low: string; close: string };
const KLINES = `query Klines($pairId: ID!, $interval: String) { klines(pairId: $pairId, interval: $interval, limit: 300) { openTime open high low close } }`;

const toBar = (k: Kline) => ({
  time: Math.floor(Date.parse(k.openTime) / 1000) as UTCTimestamp,
  // The chart library plots numbers; the exact strings stay in the book, trades and ticker.
  open: Number(k.open),
  high: Number(k.high),
  low: Number(k.low),
  close: Number(k.close),
});

/**
 * Candles from `klines` (1-minute), drawn by lightweight-charts; each trade heard live moves the
 * current candle (`trade` changes → `series.update`), so the chart follows without refetching.
 */
export function Chart({ pairId, lastTrade }: { pairId: string; lastTrade: { price: string; at: string } | null }) {
  const client = useClient();
  const el = useRef<HTMLDivElement>(null);
  const chart = useRef<IChartApi | null>(null);
  const series = useRef<ISeriesApi<'Candlestick'> | null>(null);
  const lastBar = useRef<ReturnType<typeof toBar> | null>(null);
  const emptyRef = useRef<HTMLParagraphElement>(null);

  useEffect(() => {
    if (!el.current) return;
    const dark = window.matchMedia?.('(prefers-color-scheme: dark)').matches;
    const c = createChart(el.current, {
      autoSize: true,
      layout: { background: { type: ColorType.Solid, color: 'transparent' }, textColor: dark ? '#e8eaf0' : '#161a23' },
      grid: { vertLines: { color: dark ? '#2d3340' : '#e4e7ee' }, horzLines: { color: dark ? '#2d3340' : '#e4e7ee' } },
      timeScale: { timeVisible: true, secondsVisible: false },
    });
    const s = c.addSeries(CandlestickSeries, { upColor: '#1f9d55', downColor: '#d64545', wickUpColor: '#1f9d55', wickDownColor: '#d64545', borderVisible: false });
    chart.current = c;
    series.current = s;
    let alive = true;
    void client
      .query<{ klines: Kline[] }>(KLINES, { pairId, interval: '1m' }, { requestPolicy: 'network-only' })
      .toPromise()
      .then((r) => {
        if (!alive || !r.data) return;
        const bars = r.data.klines.map(toBar);
        s.setData(bars);
        lastBar.current = bars.at(-1) ?? null;
        if (emptyRef.current) emptyRef.current.hidden = bars.length > 0;
        c.timeScale().fitContent();
      });
    return () => {
      alive = false;
      c.remove();
      chart.current = null;
      series.current = null;
      lastBar.current = null;
    };
  }, [client, pairId]);

  useEffect(() => {
    if (!lastTrade || !series.current) return;
    const price = Number(lastTrade.price);
    const time = (Math.floor(Date.parse(lastTrade.at) / 60_000) * 60) as UTCTimestamp;
    const prev = lastBar.current;
    if (prev && time < prev.time) return;
    const bar =
      prev && prev.time === time
        ? { ...prev, high: Math.max(prev.high, price), low: Math.min(prev.low, price), close: price }
        : { time, open: price, high: price, low: price, close: price };
    series.current.update(bar);
    lastBar.current = bar;
    if (emptyRef.current) emptyRef.current.hidden = true;
  }, [lastTrade]);

  return (
    <figure className="chart-wrap" aria-label="Price chart, 1-minute candles">
      <div ref={el} className="chart" />
      <p ref={emptyRef} className="muted" hidden>
        No trades yet on this pair.
      </p>
      <figcaption className="visually-hidden">One-minute candles of this pair's trades.</figcaption>
    </figure>
  );
}
