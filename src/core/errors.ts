/**
 * One error class for the whole gateway, with numeric codes grouped by area (as zwave-js does with ZWaveError).
 * The hundreds digit names the area; `isTransient()` decides whether a caller should retry.
 */
export enum ErrorCode {
  // 1xx config
  ConfigInvalid = 100,
  ConfigNotFound = 101,
  ConfigUnsupportedVersion = 102,
  // 2xx transport
  TransportClosed = 200,
  TransportOpenFailed = 201,
  TransportTimeout = 202,
  TransportFrameTooLong = 203,
  // 3xx device
  DeviceUnknownDriver = 300,
  DeviceDecodeFailed = 301,
  DeviceChecksum = 302,
  DeviceDuplicate = 303,
  DeviceNotFound = 304,
  DeviceConfigInvalid = 305,
  DeviceCommandFailed = 306,
  // 4xx access
  AccessMalformed = 400,
  AccessDenied = 401,
  AccessKeyInvalid = 402,
  // 5xx store
  StoreCorrupt = 500,
  StoreMigration = 501,
  StoreFull = 502,
  StoreNotOwner = 509,
  // 6xx sync
  SyncPublishFailed = 600,
  SyncCommandRejected = 601,
  // 7xx admin
  AdminBadRequest = 700,
  AdminUnauthorized = 701,
}

const TRANSIENT = new Set<ErrorCode>([
  ErrorCode.TransportClosed,
  ErrorCode.TransportOpenFailed,
  ErrorCode.TransportTimeout,
  ErrorCode.SyncPublishFailed,
]);

export class PortierError extends Error {
  override readonly name = 'PortierError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Extra facts for the log line; never secrets. */
    readonly context: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** True when retrying the same operation later may succeed. */
  isTransient(): boolean {
    return TRANSIENT.has(this.code);
  }

  /** The area of the code: config, transport, device, access, store, sync or admin. */
  get area(): string {
    return AREAS[Math.floor(this.code / 100)] ?? 'unknown';
  }
}

const AREAS: Record<number, string> = {
  1: 'config',
  2: 'transport',
  3: 'device',
  4: 'access',
  5: 'store',
  6: 'sync',
  7: 'admin',
};

export function isPortierError(err: unknown, code?: ErrorCode): err is PortierError {
  return err instanceof PortierError && (code === undefined || err.code === code);
}

export function isTransient(err: unknown): boolean {
  return err instanceof PortierError && err.isTransient();
}

/** A one-line reason for any thrown value, for logs and CLI stderr. */
export function reasonOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/** A provisioning request that failed validation, with one problem per field (`relay_pin: expected integer 0-27`). */
export class ProvisioningError extends PortierError {
  constructor(readonly problems: string[]) {
    super(ErrorCode.DeviceConfigInvalid, problems.join('; '), { problems });
  }
}
