// A local HTTP endpoint on 127.0.0.1 that speaks enough EC2 and Auto Scaling (AWS query protocol,
// XML answers) and SSM (JSON 1.1) for the real AWS SDK: it records every request as it came over the
// wire and answers from a FakeCloud. Tests point the SDK (or the built CLI) at it.
//
// It can also be an EC2-compatible cloud: one where only EC2 answers (a request for Auto Scaling or
// SSM gets what an EC2 endpoint says to an action it does not have), and one whose EC2 API is older
// than AWS's, answering as Eucalyptus 4 does (see LEGACY_EC2 below).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestContext } from 'node:test';
import { FakeCloud, type FailureMode } from './fake-cloud.js';

/** One request as it arrived. */
export interface WireRequest {
  service: 'ec2' | 'autoscaling' | 'ssm';
  action: string;
  /** The form parameters (query protocol) or the JSON body (SSM), as sent. */
  params: Record<string, string>;
  json?: Record<string, unknown>;
  headers: http.IncomingHttpHeaders;
}

export interface WireEndpoint {
  url: string;
  cloud: FakeCloud;
  requests: WireRequest[];
  /** Answers the next `times` requests of an action with an AWS error (after doing it, if 'lost'). */
  failNext(
    name: string,
    code: string,
    options?: { status?: number; mode?: FailureMode; times?: number },
  ): void;
  /** The requests of one action ("ec2:RunInstances"). */
  of(name: string): WireRequest[];
}

/** What kind of cloud the endpoint is. */
export interface WireOptions {
  /** The services that answer (default: all three). A request for another gets an EC2 refusal. */
  services?: ReadonlyArray<WireRequest['service']>;
  /** 'legacy': an EC2 API older than AWS's, refusing what it does not know as Eucalyptus 4 does. */
  ec2Api?: 'current' | 'legacy';
  /** Whether the legacy API knows DryRun (default: it does not). */
  legacyDryRun?: boolean;
}

/** Starts the endpoint; it closes after the test. */
export async function startWireEndpoint(
  t: Pick<TestContext, 'after'>,
  cloud = new FakeCloud(),
  options: WireOptions = {},
): Promise<WireEndpoint> {
  const requests: WireRequest[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      try {
        answer(cloud, requests, req, body, res, options);
      } catch (error) {
        res.statusCode = 500;
        res.end(String(error));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    cloud,
    requests,
    failNext(name, code, options = {}) {
      const list = cloud.failNext.get(name) ?? [];
      for (let n = 0; n < (options.times ?? 1); n++) {
        list.push({
          mode: options.mode ?? 'rejected',
          error: Object.assign(new Error(`${code} (injected)`), {
            name: code,
            $metadata: { httpStatusCode: options.status ?? 400 },
          }),
        });
      }
      cloud.failNext.set(name, list);
    },
    of: (name) => requests.filter((r) => `${r.service}:${r.action}` === name),
  };
}

function answer(
  cloud: FakeCloud,
  requests: WireRequest[],
  req: http.IncomingMessage,
  body: string,
  res: http.ServerResponse,
  options: WireOptions,
): void {
  const answers = (service: WireRequest['service']) =>
    (options.services ?? ['ec2', 'autoscaling', 'ssm']).includes(service);
  const target = req.headers['x-amz-target'];
  if (typeof target === 'string' && target.startsWith('AmazonSSM.')) {
    const action = target.slice('AmazonSSM.'.length);
    const json = body ? (JSON.parse(body) as Record<string, unknown>) : {};
    requests.push({ service: 'ssm', action, params: {}, json, headers: req.headers });
    if (!answers('ssm')) {
      // An EC2 endpoint reads a form; a JSON body has no Action in it.
      ec2Refusal(res, 'MissingAction', 'The request must contain the parameter Action');
      return;
    }
    res.setHeader('content-type', 'application/x-amz-json-1.1');
    try {
      const out = cloud.handle(`ssm:${action}`, json);
      res.end(JSON.stringify(out));
    } catch (error) {
      const e = error as Error & { $metadata?: { httpStatusCode?: number } };
      res.statusCode = e.$metadata?.httpStatusCode ?? 400;
      res.end(JSON.stringify({ __type: e.name, message: e.message }));
    }
    return;
  }
  const params = Object.fromEntries(new URLSearchParams(body));
  const action = params.Action ?? '';
  const service = params.Version === '2011-01-01' ? 'autoscaling' : 'ec2';
  requests.push({ service, action, params, headers: req.headers });
  if (!answers(service)) {
    ec2Refusal(res, 'InvalidAction', `The action ${action} is not valid for this web service.`);
    return;
  }
  if (service === 'ec2' && options.ec2Api === 'legacy') {
    const refusal = legacyRefusal(action, params, options.legacyDryRun ?? false);
    if (refusal !== undefined) {
      eucalyptusFault(res, refusal);
      return;
    }
  }
  res.setHeader('content-type', 'text/xml');
  try {
    const out = cloud.handle(`${service}:${action}`, toInput(params));
    res.end(service === 'ec2' ? ec2Xml(action, out) : autoscalingXml(action, out));
  } catch (error) {
    const e = error as Error & { $metadata?: { httpStatusCode?: number } };
    res.statusCode = e.$metadata?.httpStatusCode ?? 400;
    const message = escape(e.message);
    res.end(
      service === 'ec2'
        ? `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${e.name}</Code><Message>${message}</Message></Error></Errors><RequestID>req-1</RequestID></Response>`
        : `<ErrorResponse xmlns="https://autoscaling.amazonaws.com/doc/2011-01-01/"><Error><Type>Sender</Type><Code>${e.name}</Code><Message>${message}</Message></Error><RequestId>req-1</RequestId></ErrorResponse>`,
    );
  }
}

/** What an EC2 endpoint answers to an action it does not have (as AWS's EC2 does). */
function ec2Refusal(res: http.ServerResponse, code: string, message: string): void {
  res.statusCode = 400;
  res.setHeader('content-type', 'text/xml');
  res.end(
    `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${code}</Code><Message>${escape(message)}</Message></Error></Errors><RequestID>req-1</RequestID></Response>`,
  );
}

// ----------------------------------------------------------------------------------------------
// An older EC2 API, as Eucalyptus 4 answers (clc/modules/msgs in eucalyptus/eucalyptus):
// ComputeQueryBinding binds with UnknownParameterStrategy.ERROR, so BaseQueryBinding.bind throws a
// BindingException "Failed to bind the following fields:\n" + a "KEY = VALUE" line for every
// parameter left over; an action it has no message for throws BindingElementNotFoundException
// "Failed to find corresponding class mapping for element: ACTION in namespace: NS". Neither is
// marshalled by the compute binding: NioServerHandler.sendError writes Binding.createRestFault(
// status.toString(), message, message), i.e. HTTP 400, text/plain, Code "400 Bad Request", the
// message unescaped and repeated as the RequestID, and closes the connection.

/** Top-level parameters (and what follows them) an action takes. */
const takes = (...names: string[]) => new RegExp(`^(${names.join('|')})(\\.|$)`);

/** The parameters of each action in the API version older Eucalyptus serves (2013-10-15). */
const LEGACY_EC2: Record<string, RegExp> = {
  RunInstances: takes(
    'ImageId',
    'MinCount',
    'MaxCount',
    'KeyName',
    'SecurityGroup',
    'SecurityGroupId',
    'UserData',
    'AddressingType',
    'InstanceType',
    'Placement',
    'KernelId',
    'RamdiskId',
    'BlockDeviceMapping',
    'Monitoring',
    'SubnetId',
    'DisableApiTermination',
    'InstanceInitiatedShutdownBehavior',
    'PrivateIpAddress',
    'ClientToken',
    'NetworkInterface',
    'IamInstanceProfile',
    'EbsOptimized',
    'AdditionalInfo',
  ),
  DescribeInstances: takes('InstanceId', 'Filter', 'MaxResults', 'NextToken'),
  TerminateInstances: takes('InstanceId'),
  DescribeImages: takes('ImageId', 'Owner', 'ExecutableBy', 'Filter'),
  DescribeSubnets: takes('SubnetId', 'Filter'),
  CreateSecurityGroup: takes('GroupName', 'GroupDescription', 'VpcId'),
  // No IPv6 ranges, no rule descriptions (both came later).
  AuthorizeSecurityGroupIngress:
    /^(GroupId|GroupName|SourceSecurityGroupName|SourceSecurityGroupOwnerId|IpProtocol|FromPort|ToPort|CidrIp)$|^IpPermissions\.\d+\.(IpProtocol|FromPort|ToPort|Groups\.\d+\.\w+|IpRanges\.\d+\.CidrIp)$/,
  DescribeSecurityGroups: takes('GroupName', 'GroupId', 'Filter'),
  DeleteSecurityGroup: takes('GroupName', 'GroupId'),
  CreateTags: takes('ResourceId', 'Tag'),
};

/** The message an older Eucalyptus refuses a request with, if it does. */
function legacyRefusal(
  action: string,
  params: Record<string, string>,
  knowsDryRun: boolean,
): string | undefined {
  const known = LEGACY_EC2[action];
  if (!known) {
    return `Failed to find corresponding class mapping for element: ${action} in namespace: http___ec2_amazonaws_com_doc_2016_11_15_`;
  }
  const leftover = Object.entries(params).filter(
    ([key]) =>
      key !== 'Action' &&
      key !== 'Version' &&
      !known.test(key) &&
      !(knowsDryRun && key === 'DryRun'),
  );
  if (!leftover.length) return undefined;
  return `Failed to bind the following fields:\n${leftover.map(([k, v]) => `${k} = ${v}\n`).join('')}`;
}

/** Binding.createRestFault as NioServerHandler.sendError sends it. */
function eucalyptusFault(res: http.ServerResponse, message: string): void {
  res.statusCode = 400;
  res.setHeader('content-type', 'text/plain; charset=UTF-8');
  res.setHeader('connection', 'close');
  res.end(
    `<?xml version="1.0"?><Response><Errors><Error><Code>400 Bad Request</Code><Message>${message}</Message></Error></Errors><RequestID>${message}</RequestID></Response>`,
  );
}

// ----------------------------------------------------------------------------------------------
// Query parameters to the SDK's input shapes

/** Wire list names (EC2 flattens lists under singular names) to the SDK's plural member names. */
const LIST_NAMES: Record<string, string> = {
  TagSpecification: 'TagSpecifications',
  Tag: 'Tags',
  Filter: 'Filters',
  Value: 'Values',
  InstanceId: 'InstanceIds',
  SecurityGroupId: 'SecurityGroupIds',
  SubnetId: 'SubnetIds',
  ImageId: 'ImageIds',
  BlockDeviceMapping: 'BlockDeviceMappings',
  LaunchTemplateVersion: 'Versions',
  ResourceId: 'Resources',
};

/** Form parameters ("A.1.B=x", "A.member.1=y") to a nested object with arrays. */
export function toInput(params: Record<string, string>): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(params)) {
    if (key === 'Action' || key === 'Version') continue;
    const parts = key.split('.').filter((p) => p !== 'member');
    let node = root;
    parts.forEach((part, i) => {
      if (i === parts.length - 1) node[part] = value;
      else node = (node[part] ??= {}) as Record<string, unknown>;
    });
  }
  return normalize(root) as Record<string, unknown>;
}

function normalize(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length && entries.every(([k]) => /^\d+$/.test(k))) {
    return entries.sort(([a], [b]) => Number(a) - Number(b)).map(([, v]) => normalize(v));
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of entries) {
    const n = normalize(v);
    out[Array.isArray(n) && LIST_NAMES[k] ? LIST_NAMES[k]! : k] = n;
  }
  return out;
}

// ----------------------------------------------------------------------------------------------
// SDK output shapes to XML

type Obj = Record<string, unknown>;

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Markup already rendered (not escaped again). */
class Xml {
  constructor(readonly xml: string) {}
}

/** An element: text content is escaped; Xml content is nested as is; no content, no element. */
function el(tag: string, content: unknown): string {
  if (content === undefined || content === null) return '';
  if (content instanceof Xml) return `<${tag}>${content.xml}</${tag}>`;
  const text = content instanceof Date ? content.toISOString() : String(content);
  return `<${tag}>${escape(text)}</${tag}>`;
}

/** Child elements as one nested piece of markup. */
function x(...parts: string[]): Xml {
  return new Xml(parts.join(''));
}

function items(list: unknown, render: (item: Obj) => string, wrap = 'item'): string {
  return ((list as Obj[] | undefined) ?? []).map((i) => `<${wrap}>${render(i)}</${wrap}>`).join('');
}

function tagSet(tags: unknown): string {
  return el('tagSet', x(items(tags, (t) => el('key', t.Key) + el('value', t.Value))));
}

const STATE_CODES: Record<string, number> = {
  pending: 0,
  running: 16,
  'shutting-down': 32,
  terminated: 48,
  stopping: 64,
  stopped: 80,
};

function state(s: unknown): string {
  const name = (s as Obj).Name as string;
  return el('code', STATE_CODES[name] ?? 0) + el('name', name);
}

function instanceXml(i: Obj): string {
  return (
    el('instanceId', i.InstanceId) +
    el('imageId', i.ImageId) +
    el('instanceState', x(state(i.State))) +
    el('instanceType', i.InstanceType) +
    el('launchTime', i.LaunchTime) +
    el('privateIpAddress', i.PrivateIpAddress) +
    el('ipAddress', i.PublicIpAddress) +
    tagSet(i.Tags)
  );
}

function ec2Body(action: string, out: Obj): string {
  switch (action) {
    case 'DescribeImages':
      return el(
        'imagesSet',
        x(
          items(
            out.Images,
            (i) => el('imageId', i.ImageId) + el('rootDeviceName', i.RootDeviceName),
          ),
        ),
      );
    case 'DescribeSubnets':
      return el(
        'subnetSet',
        x(
          items(
            out.Subnets,
            (s) =>
              el('subnetId', s.SubnetId) +
              el('vpcId', s.VpcId) +
              el('defaultForAz', s.DefaultForAz),
          ),
        ),
      );
    case 'CreateSecurityGroup':
      return el('return', 'true') + el('groupId', out.GroupId) + tagSet(out.Tags);
    case 'AuthorizeSecurityGroupIngress':
    case 'DeleteSecurityGroup':
    case 'CreateTags':
      return el('return', 'true');
    case 'DescribeSecurityGroups':
      return el(
        'securityGroupInfo',
        x(
          items(
            out.SecurityGroups,
            (g) =>
              el('groupId', g.GroupId) +
              el('groupName', g.GroupName) +
              el('vpcId', g.VpcId) +
              tagSet(g.Tags),
          ),
        ),
      );
    case 'RunInstances':
      return (
        el('reservationId', out.ReservationId) +
        el('instancesSet', x(items(out.Instances, instanceXml)))
      );
    case 'DescribeInstances':
      return el(
        'reservationSet',
        x(
          items(
            out.Reservations,
            (r) =>
              el('reservationId', r.ReservationId) +
              el('instancesSet', x(items(r.Instances, instanceXml))),
          ),
        ),
      );
    case 'TerminateInstances':
      return el(
        'instancesSet',
        x(
          items(
            out.TerminatingInstances,
            (i) =>
              el('instanceId', i.InstanceId) +
              el('currentState', x(state(i.CurrentState))) +
              el('previousState', x(state(i.PreviousState))),
          ),
        ),
      );
    case 'CreateLaunchTemplate':
    case 'DeleteLaunchTemplate': {
      const t = out.LaunchTemplate as Obj;
      return el(
        'launchTemplate',
        x(
          el('launchTemplateId', t.LaunchTemplateId),
          el('launchTemplateName', t.LaunchTemplateName),
          el('latestVersionNumber', t.LatestVersionNumber),
        ),
      );
    }
    case 'DescribeLaunchTemplates':
      return el(
        'launchTemplates',
        x(
          items(
            out.LaunchTemplates,
            (t) =>
              el('launchTemplateId', t.LaunchTemplateId) +
              el('launchTemplateName', t.LaunchTemplateName) +
              el('latestVersionNumber', t.LatestVersionNumber) +
              tagSet(t.Tags),
          ),
        ),
      );
    case 'DescribeLaunchTemplateVersions':
      return el(
        'launchTemplateVersionSet',
        x(
          items(out.LaunchTemplateVersions, (v) => {
            const data = v.LaunchTemplateData as Obj;
            return (
              el('launchTemplateId', v.LaunchTemplateId) +
              el('launchTemplateName', v.LaunchTemplateName) +
              el('versionNumber', v.VersionNumber) +
              el(
                'launchTemplateData',
                x(
                  el('imageId', data.ImageId),
                  el('instanceType', data.InstanceType),
                  el('userData', data.UserData),
                ),
              )
            );
          }),
        ),
      );
    case 'CreateLaunchTemplateVersion': {
      const v = out.LaunchTemplateVersion as Obj;
      return el(
        'launchTemplateVersion',
        x(el('launchTemplateName', v.LaunchTemplateName), el('versionNumber', v.VersionNumber)),
      );
    }
    default:
      throw new Error(`wire endpoint: no XML for ec2:${action}`);
  }
}

function ec2Xml(action: string, out: Obj): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>req-1</requestId>${ec2Body(action, out)}</${action}Response>`;
}

function groupXml(g: Obj): string {
  const template = g.LaunchTemplate as Obj;
  return (
    el('AutoScalingGroupName', g.AutoScalingGroupName) +
    el(
      'LaunchTemplate',
      x(el('LaunchTemplateName', template.LaunchTemplateName), el('Version', template.Version)),
    ) +
    el('MinSize', g.MinSize) +
    el('MaxSize', g.MaxSize) +
    el('DesiredCapacity', g.DesiredCapacity) +
    el('DefaultCooldown', 300) +
    el('AvailabilityZones', x(el('member', 'us-east-1a'))) +
    el('HealthCheckType', 'EC2') +
    el('CreatedTime', g.CreatedTime) +
    el('Status', g.Status) +
    el(
      'Instances',
      x(
        items(
          g.Instances,
          (i) =>
            el('InstanceId', i.InstanceId) +
            el('AvailabilityZone', i.AvailabilityZone) +
            el('LifecycleState', i.LifecycleState) +
            el('HealthStatus', i.HealthStatus) +
            el('ProtectedFromScaleIn', i.ProtectedFromScaleIn),
          'member',
        ),
      ),
    ) +
    el(
      'Tags',
      x(
        items(
          g.Tags,
          (t) =>
            el('Key', t.Key) +
            el('Value', t.Value) +
            el('ResourceId', t.ResourceId) +
            el('ResourceType', t.ResourceType) +
            el('PropagateAtLaunch', t.PropagateAtLaunch),
          'member',
        ),
      ),
    )
  );
}

function autoscalingXml(action: string, out: Obj): string {
  let result = '';
  if (action === 'DescribeAutoScalingGroups') {
    result = el('AutoScalingGroups', x(items(out.AutoScalingGroups, groupXml, 'member')));
  } else if (action === 'StartInstanceRefresh') {
    result = el('InstanceRefreshId', out.InstanceRefreshId);
  }
  const wrapped = result ? el(`${action}Result`, x(result)) : '';
  return `<${action}Response xmlns="http://autoscaling.amazonaws.com/doc/2011-01-01/">${wrapped}<ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></${action}Response>`;
}
