/** Every client suite, in table column order. */
import type { ClientSuite } from '../harness/types.ts';
import { awsCliSuite } from './aws-cli.ts';
import { boto3Suite } from './boto3.ts';
import { curlSuite } from './curl.ts';
import { rcloneSuite } from './rclone.ts';
import { s3cmdSuite } from './s3cmd.ts';
import { sdkJs } from './sdk-js.ts';

export function allSuites(): ClientSuite[] {
  return [sdkJs, awsCliSuite(2), awsCliSuite(1), rcloneSuite, s3cmdSuite, boto3Suite, curlSuite];
}
