import { request } from 'node:http';

export interface EcowittStationOptions {
  /** http://host:port/path the console is set to post to ("customized" upload, Ecowitt protocol) */
  url: string;
  passkey: string;
}

/**
 * An Ecowitt GW1000 gateway with a WH65 outdoor array, posting its "customized upload" (Ecowitt protocol): an
 * `application/x-www-form-urlencoded` POST in imperial units, with the field names weewx-interceptor documents
 * for the GW1000, every 16-60 s (here, when asked).
 */
export class EcowittStationStub {
  /** inches, the station's yearly rain counter */
  yearlyRainIn = 3.126;
  tempF = 54.3;

  constructor(private readonly opts: EcowittStationOptions) {}

  body(passkey = this.opts.passkey): string {
    const now = new Date().toISOString().slice(0, 19).replace('T', '+').replaceAll(':', '%3A');
    return [
      `PASSKEY=${passkey}`,
      'stationtype=GW1000B_V1.7.3',
      `dateutc=${now}`,
      'tempinf=70.3',
      'humidityin=41',
      'baromrelin=29.921',
      'baromabsin=29.450',
      `tempf=${this.tempF}`,
      'humidity=83',
      'winddir=212',
      'windspeedmph=6.9',
      'windgustmph=10.3',
      'maxdailygust=15.0',
      'solarradiation=112.40',
      'uv=1',
      'rainratein=0.000',
      'eventrainin=0.000',
      'hourlyrainin=0.000',
      'dailyrainin=0.039',
      'weeklyrainin=0.512',
      'monthlyrainin=1.102',
      `yearlyrainin=${this.yearlyRainIn}`,
      'totalrainin=3.126',
      'wh65batt=0',
      'freq=868M',
      'model=GW1000_Pro',
    ].join('&');
  }

  /** POST one upload; resolves with the HTTP status the gateway answered. */
  async upload(body = this.body()): Promise<number> {
    const url = new URL(this.opts.url);
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: url.hostname,
          port: url.port,
          path: url.pathname,
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }
}
