/**
 * Test data that the project did not make up (see /work/shared/vectors/README.md), restated here with its source.
 */

/** RFC 8037 Appendix A.1: the Ed25519 key pair of the JOSE examples (also used by cose-wg/Examples eddsa-sig-01). */
export const RFC8037_PRIVATE_JWK = {
  kty: 'OKP',
  crv: 'Ed25519',
  d: 'nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A',
  x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo',
};
/** RFC 8037 Appendix A.2: the public key, as the RFC gives it (no kid, no alg). */
export const RFC8037_PUBLIC_JWK = { kty: 'OKP', crv: 'Ed25519', x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo' };
/** RFC 8037 Appendix A.3: the JWK thumbprint of that key. */
export const RFC8037_THUMBPRINT = 'kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k';
/** RFC 8037 Appendices A.4/A.5: the JWS over "Example of Ed25519 signing", which verifies with A.2's key. */
export const RFC8037_JWS =
  'eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc.hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg';

/** cose-wg/Examples eddsa-examples/eddsa-sig-01.json: COSE_Sign1, Ed25519, kid "11", over "This is the content.". */
export const COSE_EDDSA_SIG_01 =
  'D28445A201270300A10442313154546869732069732074686520636F6E74656E742E58407142FD2FF96D56DB85BEE905A76BA1D0B7321A95C8C4D3607C5781932B7AFB8711497DFA751BF40B58B3BCC32300B1487F3DB34085EEF013BF08F4A44D6FEF0D';

const hexToB64u = (hex: string) => Buffer.from(hex, 'hex').toString('base64url');

/** RFC 8392 Appendix A.2.3: the ECDSA P-256 key of the CWT examples, kid "AsymmetricECDSA256". */
export const RFC8392_EC_PUBLIC_JWK = {
  kty: 'EC',
  crv: 'P-256',
  kid: 'AsymmetricECDSA256',
  alg: 'ES256',
  x: hexToB64u('143329cce7868e416927599cf65a34f3ce2ffda55a7eca69ed8919a394d42f0f'),
  y: hexToB64u('60f7f1a780d8a783bfb7a2dd6b2796e8128dbbcef9d3d168db9529971a36e7b9'),
};
export const RFC8392_EC_D = hexToB64u('6c1382765aec5358f117733d281c1c7bdc39884d04a45a1e6c67c858bc206c19');

/**
 * RFC 8392 Appendix A.3: the signed CWT (tag 18 COSE_Sign1, ES256) over the A.1 claims set: iss
 * "coap://as.example.com", sub "erikw", aud "coap://light.example.com", exp 1444064944, nbf and iat 1443944944,
 * cti h'0b71'.
 */
export const RFC8392_SIGNED_CWT =
  'd28443a10126a104524173796d6d657472696345434453413235365850a70175636f61703a2f2f61732e6578616d706c652e636f6d02656572696b77037818636f61703a2f2f6c696768742e6578616d706c652e636f6d041a5612aeb0051a5610d9f0061a5610d9f007420b7158405427c1ff28d23fbad1f29c4c7c6a555e601d6fa29f9179bc3d7438bacaca5acd08c8d4d4f96131680c429a01f85951ecee743a52b9b63632c57209120e1c9e30';
export const RFC8392_AUD = 'coap://light.example.com';
export const RFC8392_NBF = 1443944944;
export const RFC8392_EXP = 1444064944;

/** RFC 8392 Appendix A.4: the MACed CWT (tag 61 around tag 17 COSE_Mac0, HMAC 256/64); not a signed pass. */
export const RFC8392_MACED_CWT =
  'd83dd18443a10104a1044c53796d6d65747269633235365850a70175636f61703a2f2f61732e6578616d706c652e636f6d02656572696b77037818636f61703a2f2f6c696768742e6578616d706c652e636f6d041a5612aeb0051a5610d9f0061a5610d9f007420b7148093101ef6d789200';

/** RFC 9285 section 4.3 / 4.4 examples. */
export const BASE45_EXAMPLES: Array<[string, string]> = [
  ['AB', 'BB8'],
  ['Hello!!', '%69 VD92EX0'],
  ['base-45', 'UJCLQE7W581'],
  ['ietf!', 'QED8WEX0'],
];

/** RFC 4226 Appendix D: HOTP values for secret "12345678901234567890", counters 0-9. */
export const RFC4226_HOTP = [
  '755224',
  '287082',
  '359152',
  '969429',
  '338314',
  '254676',
  '287922',
  '162583',
  '399871',
  '520489',
];
