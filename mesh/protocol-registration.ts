/**
 * The Startable part of a datamesh libp2p protocol service (js-libp2p's habit): the protocol's
 * handler is registered in start() and removed in stop(). The shard protocol and the catalog heads
 * share it.
 */
import type { Registrar } from '@libp2p/interface-internal';

type Handler = Parameters<Registrar['handle']>[1];
type HandlerOptions = NonNullable<Parameters<Registrar['handle']>[2]>;

export class ProtocolRegistration {
  private started = false;

  constructor(
    private readonly registrar: Registrar,
    private readonly protocol: string,
    private readonly handler: Handler,
    private readonly options: HandlerOptions,
  ) {}

  async start(): Promise<void> {
    await this.registrar.handle(this.protocol, this.handler, this.options);
    this.started = true;
  }

  async stop(): Promise<void> {
    await this.registrar.unhandle(this.protocol);
    this.started = false;
  }

  isStarted(): boolean {
    return this.started;
  }
}
