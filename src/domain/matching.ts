/** Which endpoints a message goes to. */

export interface EndpointFilter {
  disabled: boolean;
  eventTypes: readonly string[] | null;
  channels: readonly string[] | null;
}

export interface MessageRouting {
  eventType: string;
  channels: readonly string[] | null;
}

/**
 * An endpoint receives a message when it is enabled, its event-type filter is empty or
 * names the message's type, and its channel filter is empty or shares a channel with it.
 */
export function endpointMatches(ep: EndpointFilter, msg: MessageRouting): boolean {
  if (ep.disabled) return false;
  if (ep.eventTypes && ep.eventTypes.length > 0 && !ep.eventTypes.includes(msg.eventType)) return false;
  if (ep.channels && ep.channels.length > 0) {
    if (!msg.channels || !msg.channels.some((c) => ep.channels!.includes(c))) return false;
  }
  return true;
}
