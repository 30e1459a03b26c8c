import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { Link } from './router';
import { utc } from './format';

export interface ChartSeries {
  label: string;
  values: number[];
}

/** A point in time the chart marks and links: deploys as lines with a flag, issue changes as dots. */
export interface ChartMarker {
  at: number;
  kind: 'deploy' | 'new' | 'regressed' | 'resolved';
  label: string;
  href: string;
}

// One empty list for every chart without markers: a new [] per render would rebuild the plot each time.
const NO_MARKERS: ChartMarker[] = [];

const PALETTE = ['#2563eb', '#dc2626', '#059669', '#d97706', '#7c3aed', '#db2777', '#0891b2', '#65a30d'];
/** Distinct colours for any number of series: the palette, then evenly spread hues. */
const colour = (i: number, n: number) =>
  n <= PALETTE.length ? PALETTE[i] : `hsl(${Math.round((i * 360) / n)} 70% 45%)`;

/**
 * A time chart (uPlot on a canvas: thousands of points, no DOM per point). Markers are real links
 * laid over the plot, so a deploy or an issue change is one click (or Tab and Enter) away.
 */
export function TimeChart(props: {
  title: string;
  /** Bucket starts, ISO. */
  buckets: string[];
  series: ChartSeries[];
  markers?: ChartMarker[];
  height?: number;
}) {
  const { buckets, series, markers = NO_MARKERS, height = 260 } = props;
  const frame = useRef<HTMLDivElement>(null);
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  // Bumped whenever the plot's scale or size changes, so the markers are laid out again.
  const [layout, setLayout] = useState(0);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const x = buckets.map((b) => Date.parse(b) / 1000);
    const deploys = markers.filter((m) => m.kind === 'deploy').map((m) => m.at);
    const relayout = () => setLayout((n) => n + 1);
    const u = new uPlot(
      {
        width: Math.max(el.clientWidth, 200),
        height,
        series: [{}, ...series.map((s, i) => ({ label: s.label, stroke: colour(i, series.length), width: 1.5 }))],
        axes: [{}, { size: 50 }],
        scales: { y: { range: (_u, _min, max) => [0, Math.max(1, max) * 1.1] } },
        cursor: { drag: { x: true, y: false } },
        legend: { show: series.length > 0 },
        hooks: {
          // Deploy lines on the canvas itself; the links over them are laid out by Preact.
          draw: [
            (chart) => {
              const ctx = chart.ctx;
              ctx.save();
              ctx.strokeStyle = '#64748b';
              ctx.setLineDash([4, 4]);
              ctx.lineWidth = devicePixelRatio;
              for (const at of deploys) {
                const px = Math.round(chart.valToPos(at, 'x', true));
                if (px < chart.bbox.left || px > chart.bbox.left + chart.bbox.width) continue;
                ctx.beginPath();
                ctx.moveTo(px, chart.bbox.top);
                ctx.lineTo(px, chart.bbox.top + chart.bbox.height);
                ctx.stroke();
              }
              ctx.restore();
            },
          ],
          setScale: [relayout],
          setSize: [relayout],
        },
      },
      [x, ...series.map((s) => s.values)],
      el,
    );
    plot.current = u;
    relayout();
    const resize = new ResizeObserver(() => u.setSize({ width: Math.max(el.clientWidth, 200), height }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      u.destroy();
      plot.current = null;
    };
  }, [buckets, series, markers, height]);

  const u = plot.current;
  const laidOut: (ChartMarker & { left: number })[] = [];
  if (u && layout >= 0) {
    const width = u.over.clientWidth;
    for (const marker of markers) {
      const left = u.valToPos(marker.at, 'x');
      if (left >= 0 && left <= width) laidOut.push({ ...marker, left });
    }
  }
  let overlay: Record<string, string> | undefined;
  if (u && frame.current) {
    // The plot area, relative to the frame the markers are laid in.
    const area = u.over.getBoundingClientRect();
    const outer = frame.current.getBoundingClientRect();
    overlay = {
      left: `${area.left - outer.left}px`,
      top: `${area.top - outer.top}px`,
      width: `${area.width}px`,
      height: `${area.height}px`,
    };
  }
  return (
    <figure class="chart">
      <figcaption>{props.title}</figcaption>
      <div class="chart-frame" ref={frame}>
        <div ref={box} />
        {overlay && (
          <div class="chart-markers" style={overlay}>
            {laidOut.map((m, i) => (
              <Link
                key={`${m.kind}-${m.at}-${i}`}
                class={`marker marker-${m.kind}`}
                href={m.href}
                style={{ left: `${m.left}px` }}
                title={`${m.label} · ${utc(new Date(m.at * 1000).toISOString())}`}
                aria-label={m.label}
                // Deploys are stops for the keyboard; the many issue changes are in the page's lists too.
                tabIndex={m.kind === 'deploy' ? undefined : -1}
              >
                {m.kind === 'deploy' ? '▼' : '●'}
              </Link>
            ))}
          </div>
        )}
      </div>
    </figure>
  );
}
