// A small in-memory EC2 / SSM / Auto Scaling for tests: the state the calls change (instances,
// security groups, launch templates, Auto Scaling groups), with AWS's answers and errors in the
// SDK's shapes. The SDK mocks (mock-clients.ts) and the HTTP endpoint (wire-endpoint.ts) both sit
// on it, so every test can ask what is left after a launch, a failure or a cleanup.

/** An error the way the SDK raises AWS errors: the code in `name`. */
export function awsError(code: string, message = code, status = 400): Error {
  return Object.assign(new Error(message), { name: code, $metadata: { httpStatusCode: status } });
}

export type Tags = Array<{ Key: string; Value: string }>;
type Filter = { Name?: string | undefined; Values?: string[] | undefined };

export interface FakeInstance {
  InstanceId: string;
  ImageId: string;
  InstanceType: string;
  State: { Name: string };
  Tags: Tags;
  LaunchTime: Date;
  PublicIpAddress?: string;
  PrivateIpAddress: string;
  securityGroupIds: string[];
  /** The ClientToken of the RunInstances that started it. */
  clientToken?: string;
  /** Describes seen since the last state change (drives pending -> running etc.). */
  polls: number;
  request: Record<string, unknown>;
}

export interface FakeGroup {
  name: string;
  template: string;
  min: number;
  max: number;
  desired: number;
  subnets: string;
  tags: Tags;
  created: Date;
  instanceIds: string[];
  deleting: boolean;
  scheduled: Array<Record<string, unknown>>;
  refreshes: string[];
}

export interface FakeTemplate {
  id: string;
  name: string;
  tags: Tags;
  versions: Array<Record<string, unknown>>;
}

/** One call the fake answered (or refused). */
export interface CallRecord {
  name: string;
  input: Record<string, unknown>;
}

/** How a call fails when a test injects a failure. */
export type FailureMode = 'rejected' | 'lost';

export interface FakeCloudOptions {
  now?: () => Date;
  /** The public address every instance gets (a loopback address, so health checks stay local). */
  publicAddress?: string | undefined;
  /** Describes before a pending instance runs (0: running at once). */
  pollsToRun?: number;
}

/** The in-memory cloud. */
export class FakeCloud {
  readonly calls: CallRecord[] = [];
  readonly instances = new Map<string, FakeInstance>();
  readonly securityGroups = new Map<
    string,
    { GroupId: string; GroupName: string; VpcId: string; Tags: Tags; rules: unknown[] }
  >();
  readonly templates = new Map<string, FakeTemplate>();
  readonly groups = new Map<string, FakeGroup>();
  readonly parameters = new Map<string, string>([
    ['/aws/service/debian/release/12/latest/amd64', 'ami-0d12d12d12d12d12d'],
    [
      '/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id',
      'ami-024042404240424aa',
    ],
    [
      '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64',
      'ami-0a1a2023a1a2023a1',
    ],
  ]);
  readonly images = new Map<string, string>([
    ['ami-0d12d12d12d12d12d', '/dev/xvda'],
    ['ami-024042404240424aa', '/dev/sda1'],
    ['ami-0a1a2023a1a2023a1', '/dev/xvda'],
    ['ami-0123456789abcdef0', '/dev/xvda'],
  ]);
  readonly subnets = [
    { SubnetId: 'subnet-0aaa', VpcId: 'vpc-0default', DefaultForAz: true },
    { SubnetId: 'subnet-0bbb', VpcId: 'vpc-0default', DefaultForAz: true },
    { SubnetId: 'subnet-0ccc', VpcId: 'vpc-0other', DefaultForAz: false },
  ];
  /** Failures to inject, by 0-based index of the call (over all calls). */
  readonly failAt = new Map<number, { mode: FailureMode; error: Error }>();
  /** Failures to inject on every call of a name, a number of times. */
  readonly failNext = new Map<string, Array<{ mode: FailureMode; error: Error }>>();
  /** Called before each call is answered (e.g. to abort a launch at a given step). */
  onCall?: (record: CallRecord, index: number) => void;

  private counter = 0;
  private readonly tokens = new Map<string, string[]>();
  private readonly now: () => Date;
  private readonly publicAddress: string | undefined;
  private readonly pollsToRun: number;

  constructor(options: FakeCloudOptions = {}) {
    this.now = options.now ?? (() => new Date());
    this.publicAddress = 'publicAddress' in options ? options.publicAddress : '127.0.0.1';
    this.pollsToRun = options.pollsToRun ?? 1;
  }

  /** Answers one call by name ("ec2:RunInstances") with an SDK-shaped input. */
  handle(name: string, input: Record<string, unknown>): Record<string, unknown> {
    const record = { name, input: structuredClone(input) };
    const index = this.calls.length;
    this.calls.push(record);
    this.onCall?.(record, index);
    const injected = this.failAt.get(index) ?? this.failNext.get(name)?.shift();
    if (injected?.mode === 'rejected') throw injected.error;
    const handler = this.handlers[name];
    if (!handler) throw new Error(`fake cloud: no handler for ${name}`);
    const output = handler(input);
    if (injected?.mode === 'lost') throw injected.error;
    return output;
  }

  /** Names of the calls made, in order. */
  callNames(): string[] {
    return this.calls.map((c) => c.name);
  }

  /** What still exists (and would cost money or clutter): live instances and every other resource. */
  leftovers(): string[] {
    return [
      ...[...this.instances.values()]
        .filter((i) => i.State.Name !== 'terminated')
        .map((i) => `instance ${i.InstanceId} (${i.State.Name})`),
      ...[...this.securityGroups.keys()].map((id) => `security group ${id}`),
      ...[...this.templates.keys()].map((name) => `launch template ${name}`),
      ...[...this.groups.keys()].map((name) => `Auto Scaling group ${name}`),
    ];
  }

  /** Puts a resource in place as if an earlier launch had made it (for ls, down, reap tests). */
  addInstance(partial: Partial<FakeInstance> & { Tags: Tags }): FakeInstance {
    const instance = this.newInstance(
      { ImageId: 'ami-0d12d12d12d12d12d', InstanceType: 't3.micro' },
      partial.Tags,
      [],
    );
    Object.assign(instance, partial);
    return instance;
  }

  addSecurityGroup(name: string, tags: Tags): string {
    const id = this.nextId('sg');
    this.securityGroups.set(id, {
      GroupId: id,
      GroupName: name,
      VpcId: 'vpc-0default',
      Tags: tags,
      rules: [],
    });
    return id;
  }

  // ------------------------------------------------------------------------------------------

  private nextId(prefix: string): string {
    this.counter += 1;
    return `${prefix}-${this.counter.toString(16).padStart(17, '0')}`;
  }

  private newInstance(
    data: Record<string, unknown>,
    tags: Tags,
    securityGroupIds: string[],
  ): FakeInstance {
    const id = this.nextId('i');
    const n = this.instances.size + 10;
    const instance: FakeInstance = {
      InstanceId: id,
      ImageId: String(data.ImageId),
      InstanceType: String(data.InstanceType ?? 't3.micro'),
      State: { Name: 'pending' },
      Tags: structuredClone(tags),
      LaunchTime: this.now(),
      PrivateIpAddress: `10.0.0.${n}`,
      ...(this.publicAddress ? { PublicIpAddress: this.publicAddress } : {}),
      securityGroupIds,
      polls: 0,
      request: structuredClone(data),
    };
    this.instances.set(id, instance);
    return instance;
  }

  /** Advances an instance's state the way polling sees it. */
  private advance(i: FakeInstance): void {
    if (i.State.Name === 'pending' && ++i.polls >= this.pollsToRun) i.State.Name = 'running';
    else if (i.State.Name === 'shutting-down') i.State.Name = 'terminated';
  }

  private terminate(ids: string[]): void {
    for (const id of ids) {
      const i = this.instances.get(id);
      if (i && i.State.Name !== 'terminated') i.State.Name = 'shutting-down';
    }
  }

  private view(i: FakeInstance): Record<string, unknown> {
    return {
      InstanceId: i.InstanceId,
      ImageId: i.ImageId,
      InstanceType: i.InstanceType,
      State: { ...i.State },
      Tags: structuredClone(i.Tags),
      LaunchTime: i.LaunchTime,
      PrivateIpAddress: i.PrivateIpAddress,
      ...(i.PublicIpAddress && i.State.Name === 'running'
        ? { PublicIpAddress: i.PublicIpAddress }
        : {}),
    };
  }

  private readonly handlers: Record<
    string,
    (input: Record<string, unknown>) => Record<string, unknown>
  > = {
    'ssm:GetParameter': (input) => {
      const value = this.parameters.get(String(input.Name));
      if (value === undefined) throw awsError('ParameterNotFound', '', 400);
      return { Parameter: { Name: input.Name, Type: 'String', Value: value, Version: 1 } };
    },
    'ec2:DescribeImages': (input) => {
      const ids = (input.ImageIds as string[]) ?? [];
      const missing = ids.filter((id) => !this.images.has(id));
      if (missing.length)
        throw awsError('InvalidAMIID.NotFound', `The image id '[${missing[0]}]' does not exist`);
      return { Images: ids.map((id) => ({ ImageId: id, RootDeviceName: this.images.get(id) })) };
    },
    'ec2:DescribeSubnets': (input) => {
      const ids = input.SubnetIds as string[] | undefined;
      if (ids) {
        const found = this.subnets.filter((s) => ids.includes(s.SubnetId));
        if (found.length < ids.length)
          throw awsError('InvalidSubnetID.NotFound', `The subnet ID '${ids[0]}' does not exist`);
        return { Subnets: found };
      }
      return {
        Subnets: this.subnets.filter((s) =>
          matchesFilters(s as never, input.Filters as Filter[], subnetField),
        ),
      };
    },
    'ec2:CreateSecurityGroup': (input) => {
      const name = String(input.GroupName);
      if ([...this.securityGroups.values()].some((g) => g.GroupName === name)) {
        throw awsError('InvalidGroup.Duplicate', `The security group '${name}' already exists`);
      }
      const id = this.nextId('sg');
      const tags = tagsFor(input.TagSpecifications, 'security-group');
      this.securityGroups.set(id, {
        GroupId: id,
        GroupName: name,
        VpcId: String(input.VpcId ?? 'vpc-0default'),
        Tags: tags,
        rules: [],
      });
      return { GroupId: id, Tags: tags };
    },
    'ec2:AuthorizeSecurityGroupIngress': (input) => {
      const group = this.securityGroups.get(String(input.GroupId));
      if (!group)
        throw awsError(
          'InvalidGroup.NotFound',
          `The security group '${String(input.GroupId)}' does not exist`,
        );
      group.rules.push(...((input.IpPermissions as unknown[]) ?? []));
      return { Return: true };
    },
    'ec2:CreateTags': (input) => {
      const ids = (input.Resources as string[]) ?? [];
      const tags = (input.Tags as Tags) ?? [];
      const targets = ids.map((id) => {
        const target =
          this.instances.get(id) ??
          this.securityGroups.get(id) ??
          [...this.templates.values()].find((t) => t.id === id);
        if (!target)
          throw awsError(
            id.startsWith('sg-') ? 'InvalidGroup.NotFound' : 'InvalidID',
            `The ID '${id}' does not exist`,
          );
        return 'Tags' in target ? target.Tags : target.tags;
      });
      for (const list of targets) {
        for (const tag of tags) {
          const same = list.find((t) => t.Key === tag.Key);
          if (same) same.Value = tag.Value;
          else list.push({ Key: tag.Key, Value: tag.Value });
        }
      }
      return { Return: true };
    },
    'ec2:DescribeSecurityGroups': (input) => ({
      SecurityGroups: [...this.securityGroups.values()]
        .filter((g) => matchesFilters(g, input.Filters as Filter[], groupField))
        .map((g) => ({ GroupId: g.GroupId, GroupName: g.GroupName, VpcId: g.VpcId, Tags: g.Tags })),
    }),
    'ec2:DeleteSecurityGroup': (input) => {
      const id = String(input.GroupId);
      if (!this.securityGroups.has(id))
        throw awsError('InvalidGroup.NotFound', `The security group '${id}' does not exist`);
      const user = [...this.instances.values()].find(
        (i) => i.State.Name !== 'terminated' && i.securityGroupIds.includes(id),
      );
      if (user) throw awsError('DependencyViolation', `resource ${id} has a dependent object`);
      this.securityGroups.delete(id);
      return {};
    },
    'ec2:RunInstances': (input) => {
      // As AWS: a dry run checks the permission and stops, whatever the image.
      if (input.DryRun === true || input.DryRun === 'true') {
        throw awsError(
          'DryRunOperation',
          'Request would have succeeded, but DryRun flag is set.',
          412,
        );
      }
      const token = input.ClientToken as string | undefined;
      if (token && this.tokens.has(token)) {
        return {
          ReservationId: 'r-again',
          Instances: this.tokens.get(token)!.map((id) => this.view(this.instances.get(id)!)),
        };
      }
      if (!this.images.has(String(input.ImageId))) {
        throw awsError(
          'InvalidAMIID.NotFound',
          `The image id '[${String(input.ImageId)}]' does not exist`,
        );
      }
      for (const g of (input.SecurityGroupIds as string[]) ?? []) {
        if (!this.securityGroups.has(g))
          throw awsError('InvalidGroup.NotFound', `The security group '${g}' does not exist`);
      }
      const count = Number(input.MinCount);
      const tags = tagsFor(input.TagSpecifications, 'instance');
      const created = Array.from({ length: count }, () =>
        this.newInstance(input, tags, (input.SecurityGroupIds as string[]) ?? []),
      );
      for (const i of created) if (token) i.clientToken = token;
      if (token)
        this.tokens.set(
          token,
          created.map((i) => i.InstanceId),
        );
      return { ReservationId: 'r-0001', Instances: created.map((i) => this.view(i)) };
    },
    'ec2:DescribeInstances': (input) => {
      const ids = input.InstanceIds as string[] | undefined;
      let list = [...this.instances.values()];
      if (ids) {
        const missing = ids.filter((id) => !this.instances.has(id));
        if (missing.length)
          throw awsError(
            'InvalidInstanceID.NotFound',
            `The instance ID '${missing[0]}' does not exist`,
          );
        list = list.filter((i) => ids.includes(i.InstanceId));
      }
      for (const i of list) this.advance(i);
      list = list.filter((i) => matchesFilters(i, input.Filters as Filter[], instanceField));
      return list.length
        ? { Reservations: [{ ReservationId: 'r-0001', Instances: list.map((i) => this.view(i)) }] }
        : { Reservations: [] };
    },
    'ec2:TerminateInstances': (input) => {
      const ids = (input.InstanceIds as string[]) ?? [];
      const missing = ids.filter((id) => !this.instances.has(id));
      if (missing.length)
        throw awsError(
          'InvalidInstanceID.NotFound',
          `The instance ID '${missing[0]}' does not exist`,
        );
      const before = ids.map((id) => ({ ...this.instances.get(id)!.State }));
      this.terminate(ids);
      return {
        TerminatingInstances: ids.map((id, n) => ({
          InstanceId: id,
          PreviousState: before[n],
          CurrentState: { ...this.instances.get(id)!.State },
        })),
      };
    },
    'ec2:CreateLaunchTemplate': (input) => {
      const name = String(input.LaunchTemplateName);
      if (this.templates.has(name)) {
        throw awsError(
          'InvalidLaunchTemplateName.AlreadyExistsException',
          `Launch template name already in use.`,
        );
      }
      const id = this.nextId('lt');
      const tags = tagsFor(input.TagSpecifications, 'launch-template');
      this.templates.set(name, {
        id,
        name,
        tags,
        versions: [structuredClone(input.LaunchTemplateData as Record<string, unknown>)],
      });
      return {
        LaunchTemplate: {
          LaunchTemplateId: id,
          LaunchTemplateName: name,
          LatestVersionNumber: 1,
          Tags: tags,
        },
      };
    },
    'ec2:DescribeLaunchTemplates': (input) => ({
      LaunchTemplates: [...this.templates.values()]
        .filter((t) => matchesFilters({ Tags: t.tags }, input.Filters as Filter[], () => undefined))
        .map((t) => ({
          LaunchTemplateId: t.id,
          LaunchTemplateName: t.name,
          LatestVersionNumber: t.versions.length,
          Tags: t.tags,
        })),
    }),
    'ec2:DescribeLaunchTemplateVersions': (input) => {
      const t = this.templates.get(String(input.LaunchTemplateName));
      if (!t)
        throw awsError(
          'InvalidLaunchTemplateName.NotFoundException',
          'At least one of the launch templates specified in the request does not exist.',
        );
      const n = t.versions.length;
      return {
        LaunchTemplateVersions: [
          {
            LaunchTemplateId: t.id,
            LaunchTemplateName: t.name,
            VersionNumber: n,
            LaunchTemplateData: structuredClone(t.versions[n - 1]),
          },
        ],
      };
    },
    'ec2:CreateLaunchTemplateVersion': (input) => {
      const t = this.templates.get(String(input.LaunchTemplateName));
      if (!t)
        throw awsError('InvalidLaunchTemplateName.NotFoundException', 'no such launch template');
      t.versions.push({
        ...structuredClone(t.versions.at(-1)!),
        ...structuredClone(input.LaunchTemplateData as Record<string, unknown>),
      });
      return {
        LaunchTemplateVersion: { LaunchTemplateName: t.name, VersionNumber: t.versions.length },
      };
    },
    'ec2:DeleteLaunchTemplate': (input) => {
      const name = String(input.LaunchTemplateName);
      const t = this.templates.get(name);
      if (!t)
        throw awsError(
          'InvalidLaunchTemplateName.NotFoundException',
          'At least one of the launch templates specified in the request does not exist.',
        );
      this.templates.delete(name);
      return { LaunchTemplate: { LaunchTemplateId: t.id, LaunchTemplateName: name } };
    },
    'autoscaling:CreateAutoScalingGroup': (input) => {
      const name = String(input.AutoScalingGroupName);
      if (this.groups.has(name))
        throw awsError(
          'AlreadyExists',
          `AutoScalingGroup by this name already exists - A group with the name ${name} already exists`,
        );
      const lt = input.LaunchTemplate as { LaunchTemplateName: string };
      const t = this.templates.get(lt.LaunchTemplateName);
      if (!t)
        throw awsError(
          'ValidationError',
          `The specified launch template, with template name ${lt.LaunchTemplateName}, does not exist.`,
        );
      const data = t.versions.at(-1)!;
      const group: FakeGroup = {
        name,
        template: t.name,
        min: Number(input.MinSize),
        max: Number(input.MaxSize),
        desired: Number(input.DesiredCapacity),
        subnets: String(input.VPCZoneIdentifier ?? ''),
        tags: ((input.Tags as Array<{ Key: string; Value: string }>) ?? []).map((x) => ({
          Key: x.Key,
          Value: x.Value,
        })),
        created: this.now(),
        instanceIds: [],
        deleting: false,
        scheduled: [],
        refreshes: [],
      };
      for (let n = 0; n < group.desired; n++) {
        // As AWS: Auto Scaling tags what it launches with the group's name.
        const instance = this.newInstance(
          data,
          [
            ...tagsFor(data.TagSpecifications, 'instance'),
            { Key: 'aws:autoscaling:groupName', Value: name },
          ],
          (data.SecurityGroupIds as string[]) ?? [],
        );
        group.instanceIds.push(instance.InstanceId);
      }
      this.groups.set(name, group);
      return {};
    },
    'autoscaling:PutScheduledUpdateGroupAction': (input) => {
      const group = this.groups.get(String(input.AutoScalingGroupName));
      if (!group) throw awsError('ValidationError', 'AutoScalingGroup name not found');
      group.scheduled.push(structuredClone(input));
      return {};
    },
    'autoscaling:DescribeAutoScalingGroups': (input) => {
      const names = input.AutoScalingGroupNames as string[] | undefined;
      // A group being deleted goes away once its instances are gone.
      for (const g of [...this.groups.values()]) {
        if (!g.deleting) continue;
        for (const id of g.instanceIds) this.instances.get(id)!.State.Name = 'terminated';
        this.groups.delete(g.name);
      }
      const list = [...this.groups.values()].filter(
        (g) =>
          (!names || names.includes(g.name)) &&
          matchesFilters({ Tags: g.tags }, input.Filters as Filter[], () => undefined),
      );
      return {
        AutoScalingGroups: list.map((g) => ({
          AutoScalingGroupName: g.name,
          LaunchTemplate: { LaunchTemplateName: g.template, Version: '$Latest' },
          MinSize: g.min,
          MaxSize: g.max,
          DesiredCapacity: g.desired,
          CreatedTime: g.created,
          ...(g.deleting ? { Status: 'Delete in progress' } : {}),
          Tags: g.tags.map((t) => ({
            ...t,
            ResourceId: g.name,
            ResourceType: 'auto-scaling-group',
            PropagateAtLaunch: false,
          })),
          Instances: g.instanceIds.map((id) => {
            const i = this.instances.get(id)!;
            this.advance(i);
            return {
              InstanceId: id,
              LifecycleState: i.State.Name === 'running' ? 'InService' : 'Pending',
              HealthStatus: 'Healthy',
              AvailabilityZone: 'us-east-1a',
              ProtectedFromScaleIn: false,
            };
          }),
        })),
      };
    },
    'autoscaling:DeleteAutoScalingGroup': (input) => {
      const group = this.groups.get(String(input.AutoScalingGroupName));
      if (!group)
        throw awsError(
          'ValidationError',
          'AutoScalingGroup name not found - AutoScalingGroup ' +
            String(input.AutoScalingGroupName) +
            ' not found',
        );
      if (!input.ForceDelete && group.instanceIds.length)
        throw awsError(
          'ResourceInUse',
          'You cannot delete an AutoScalingGroup while there are instances still in the group.',
        );
      group.deleting = true;
      this.terminate(group.instanceIds);
      return {};
    },
    'autoscaling:StartInstanceRefresh': (input) => {
      const group = this.groups.get(String(input.AutoScalingGroupName));
      if (!group) throw awsError('ValidationError', 'AutoScalingGroup name not found');
      const id = `refresh-${group.refreshes.length + 1}`;
      group.refreshes.push(id);
      return { InstanceRefreshId: id };
    },
  };
}

function tagsFor(specs: unknown, type: string): Tags {
  const list = (specs as Array<{ ResourceType?: string; Tags?: Tags }> | undefined) ?? [];
  return structuredClone(list.find((s) => s.ResourceType === type)?.Tags ?? []);
}

function instanceField(i: FakeInstance, name: string): string | undefined {
  if (name === 'client-token') return i.clientToken ?? '';
  return name === 'instance-state-name' ? i.State.Name : undefined;
}

function groupField(g: { GroupName: string }, name: string): string | undefined {
  return name === 'group-name' ? g.GroupName : undefined;
}

function subnetField(s: { DefaultForAz: boolean }, name: string): string | undefined {
  return name === 'default-for-az' ? String(s.DefaultForAz) : undefined;
}

/** EC2-style filters: tag-key, tag:KEY, and fields the caller knows. */
function matchesFilters<T extends { Tags?: Tags }>(
  item: T,
  filters: Filter[] | undefined,
  field: (item: T, name: string) => string | undefined,
): boolean {
  for (const f of filters ?? []) {
    const name = f.Name ?? '';
    const values = f.Values ?? [];
    const tags = item.Tags ?? [];
    let ok: boolean;
    if (name === 'tag-key') ok = tags.some((t) => values.includes(t.Key));
    else if (name.startsWith('tag:'))
      ok = tags.some((t) => t.Key === name.slice(4) && values.includes(t.Value));
    else {
      const v = field(item, name);
      if (v === undefined)
        throw awsError('InvalidParameterValue', `The filter '${name}' is invalid`);
      ok = values.includes(v);
    }
    if (!ok) return false;
  }
  return true;
}
