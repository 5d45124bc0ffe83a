/** SigV4 authentication, payload verification and aws-chunked decoding for the S3 front end. */
export type { AuthOptions, AuthRequest, AuthResult, ChunkSigning, PayloadMode, SecretLookup } from './types.ts';
export { authenticate } from './sigv4.ts';
export { verifyPayloadHash } from './payload-hash.ts';
export { decodeAwsChunked, DEFAULT_MAX_CHUNK_SIZE, type AwsChunkedBody, type AwsChunkedOptions } from './aws-chunked.ts';
