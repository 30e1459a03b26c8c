/** Times as the viewer reads them: their own time zone on screen, UTC on hover. */

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });

export const utc = (iso: string) => `${iso.slice(0, 19).replace('T', ' ')} UTC`;
export const local = (iso: string) => dateTime.format(new Date(iso));

/**
 * "3 minutes ago": against `now` (the server's clock when it says one). A time after it (clocks
 * apart) reads as the time itself: "in 18 days" would say the event has not happened yet.
 */
export function ago(iso: string, now = Date.now()): string {
  const seconds = Math.round((Date.parse(iso) - now) / 1000);
  if (seconds > 60) return local(iso);
  const units: [Intl.RelativeTimeFormatUnit, number][] = [
    ['day', 86_400],
    ['hour', 3_600],
    ['minute', 60],
  ];
  for (const [unit, size] of units) {
    if (Math.abs(seconds) >= size) return relative.format(Math.round(seconds / size), unit);
  }
  return relative.format(seconds, 'second');
}

export function Time(props: { iso: string | null | undefined; relativeTo?: number }) {
  if (!props.iso) return <span class="muted">never</span>;
  return (
    <time dateTime={props.iso} title={utc(props.iso)}>
      {props.relativeTo === undefined ? local(props.iso) : ago(props.iso, props.relativeTo)}
    </time>
  );
}

const numberFormat = new Intl.NumberFormat();
export const num = (n: number | null | undefined) => (n === null || n === undefined ? '–' : numberFormat.format(n));
