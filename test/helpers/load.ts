// Concurrent writes against a real server process, recording what was acknowledged.
export interface Acknowledged {
  customerId: string;
  serviceId: string;
  ended: boolean;
}

/**
 * Starts services (and ends every other one) with `concurrency` workers until `count` are done or the
 * server goes away; `onProgress` sees the number acknowledged so far.
 */
export async function writeUntilGone(base: string, count: number, concurrency: number, onProgress: (acked: number) => void): Promise<Acknowledged[]> {
  const acked: Acknowledged[] = [];
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const n = next++;
      const customerId = `DUR-${n}`;
      try {
        const res = await fetch(`${base}/genesys/1/cs/services/start`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ customer_id: customerId, service_type: `T${n % 7}`, interaction_id: `IX-${n}`, Ext: { n } }),
        });
        if (res.status === 503) return; // shutting down: not accepted, this worker stops
        if (res.status !== 201) throw new Error(`server answered ${res.status}: ${await res.text()}`);
        const serviceId = /"service_id":(\d+)/.exec(await res.text())![1];
        const record = { customerId, serviceId, ended: false };
        acked.push(record);
        onProgress(acked.length);
        if (n % 2 === 0) {
          const end = await fetch(`${base}/genesys/1/cs/services/${serviceId}/end`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ disposition: `D${n}` }),
          });
          if (end.status === 204) record.ended = true;
          else if (end.status === 503) return;
          else throw new Error(`server answered ${end.status}: ${await end.text()}`);
        }
      } catch (error) {
        if (error instanceof Error && /server answered/.test(error.message)) throw error;
        return; // the server went away: this worker stops
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return acked;
}
