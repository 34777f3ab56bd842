import { useId } from 'react';
import { bars, linePath, type Point } from './series';

const W = 600;
const H = 160;

function summary(points: Point[], unit: string): string {
  if (!points.length) return 'No data';
  const first = points[0];
  const last = points[points.length - 1];
  const max = points.reduce((m, p) => (p.value > m.value ? p : m), first);
  return `${first.date} to ${last.date}: from ${first.value} to ${last.value} ${unit}; highest ${max.value} on ${max.date}`;
}

/**
 * A line (cumulative values) or bars (per day) as SVG with a text summary for screen readers
 * (canvas charts say nothing to them), and the numbers in a table behind a disclosure.
 */
export function Chart({ title, points, unit, kind }: { title: string; points: Point[]; unit: string; kind: 'line' | 'bars' }) {
  const id = useId();
  const text = summary(points, unit);
  return (
    <figure className="card" aria-labelledby={`${id}-cap`}>
      <figcaption id={`${id}-cap`}>
        <strong>{title}</strong>
      </figcaption>
      <svg className="svg-chart" viewBox={`0 0 ${W} ${H + 2}`} role="img" aria-label={`${title}. ${text}`} preserveAspectRatio="none">
        <line className="axis" x1={0} y1={H + 1} x2={W} y2={H + 1} />
        {kind === 'line' ? (
          <polyline points={linePath(points, W, H)} />
        ) : (
          bars(points, W, H).map((b) => (
            <rect key={b.point.date} className="bar" x={b.x} y={b.y} width={b.width} height={b.height}>
              <title>{`${b.point.date}: ${b.point.value} ${unit}`}</title>
            </rect>
          ))
        )}
      </svg>
      <p className="muted">{text}</p>
      <details>
        <summary>{title}: data</summary>
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Day</th>
                <th scope="col" className="num">
                  {unit}
                </th>
              </tr>
            </thead>
            <tbody>
              {points.map((p) => (
                <tr key={p.date}>
                  <td>{p.date}</td>
                  <td className="num">{p.value}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </figure>
  );
}
