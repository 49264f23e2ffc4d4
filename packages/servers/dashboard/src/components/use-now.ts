import { useEffect, useState } from 'preact/hooks';

/** The time now, refreshed every `everyMs`, for "12 s ago" labels that keep counting. */
export function useNow(everyMs = 1000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(timer);
  }, [everyMs]);
  return now;
}
