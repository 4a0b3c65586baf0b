/** The cloud topics of one gateway (DESIGN.md, MQTT topics). */
export interface CloudTopics {
  /** batches of events, QoS 1 */
  events: string;
  /** `online` / `offline`, retained; `offline` is the last will */
  status: string;
  /** command acknowledgements `{id, status, error?}` */
  ack: string;
  /** filter the gateway subscribes to for commands */
  downFilter: string;
  /** `<prefix>/<gw>/down/`; a command's name is what follows */
  downPrefix: string;
}

export function cloudTopics(prefix: string, gw: string): CloudTopics {
  const base = `${prefix}/${gw}`;
  return {
    events: `${base}/up/events`,
    status: `${base}/up/status`,
    ack: `${base}/up/ack`,
    downFilter: `${base}/down/+`,
    downPrefix: `${base}/down/`,
  };
}
