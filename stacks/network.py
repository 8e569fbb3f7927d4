"""The VPC and what runs in it: two private subnets (no internet gateway, no NAT), gateway
endpoints for DynamoDB and S3, an interface endpoint for Secrets Manager, the function's
security group (HTTPS out to the endpoints only), a closed default group, and flow logs.
"""

from __future__ import annotations

import ipaddress

from constructs import Construct

from stacks.cdk import bindings, core
from stacks.config import StackConfig
from stacks.context import AwsContext
from stacks.policies import assume_role_policy, policy_document, statement
from stacks.secrets import Encryption


def explicitly_empty(
    group: bindings.security_group.SecurityGroup | bindings.default_security_group.DefaultSecurityGroup,
    *directions: str,
) -> None:
    """Keep ``ingress``/``egress`` an explicit ``[]`` in ``make hcl``'s HCL too: CDKTF's HCL
    renderer writes an empty list of rule blocks as nothing, and an absent rule list lets the
    group keep rules added outside Terraform. The synthesized JSON is unchanged ([] either way)."""
    for direction in directions:
        group.add_override(direction, [])


class Network(Construct):
    """VPC, private subnets, endpoints, security groups and flow logs; ``placement`` is where the
    function's network interfaces go (None when it runs outside the VPC)."""

    def __init__(self, scope: Construct, config: StackConfig, aws: AwsContext, encryption: Encryption) -> None:
        super().__init__(scope, "network")
        self.vpc = bindings.vpc.Vpc(
            self,
            "aws_vpc.main",
            cidr_block=config.vpc_cidr,
            enable_dns_support=True,
            enable_dns_hostnames=True,
            tags=aws.tags,
        )
        # Lock the VPC's default group down: nothing may use it by accident.
        default_group = bindings.default_security_group.DefaultSecurityGroup(
            self, "aws_default_security_group.main", vpc_id=self.vpc.id, ingress=[], egress=[]
        )
        explicitly_empty(default_group, "ingress", "egress")
        self._flow_logs(config, encryption)
        egress = [
            bindings.security_group.SecurityGroupEgress(
                description="HTTPS to the VPC interface endpoints (Secrets Manager)",
                from_port=443,
                to_port=443,
                protocol="tcp",
                cidr_blocks=[config.vpc_cidr],
            )
        ]
        subnets: list[bindings.subnet.Subnet] = []
        if config.lambda_in_vpc:
            subnets, prefix_lists = self._private_subnets(config, aws.region)
            egress.append(
                bindings.security_group.SecurityGroupEgress(
                    description="HTTPS to DynamoDB and S3 through their gateway endpoints",
                    from_port=443,
                    to_port=443,
                    protocol="tcp",
                    prefix_list_ids=prefix_lists,
                )
            )
        # The original group, now the function's: no ingress at all, HTTPS out to AWS only. Its
        # description stays: AWS cannot change it without a new group.
        self.function_sg = bindings.security_group.SecurityGroup(
            self,
            "aws_security_group.api_gw_sg",
            name=f"{config.name_prefix}_api_gw_sg",
            description="Allow ICMP, TCP 80/443 for API Gateway",
            vpc_id=self.vpc.id,
            tags=aws.tags,
            ingress=[],
            egress=egress,
        )
        explicitly_empty(self.function_sg, "ingress")
        self.placement: bindings.lambda_function.LambdaFunctionVpcConfig | None = None
        if subnets:
            self._interface_endpoint(config, aws.region, subnets)
            self.placement = bindings.lambda_function.LambdaFunctionVpcConfig(
                subnet_ids=[s.id for s in subnets], security_group_ids=[self.function_sg.id]
            )

    def _private_subnets(self, config: StackConfig, region: str) -> tuple[list[bindings.subnet.Subnet], list[str]]:
        """Two private subnets in two zones, routed only to the DynamoDB and S3 gateways."""
        # Named zones, not "whatever is available": subnets must not move when AWS adds a zone.
        zones = bindings.data_aws_availability_zones.DataAwsAvailabilityZones(
            self,
            "data.aws_availability_zones.available",
            state="available",
            filter=[
                bindings.data_aws_availability_zones.DataAwsAvailabilityZonesFilter(
                    name="zone-name", values=[f"{region}a", f"{region}b"]
                )
            ],
        )
        halves = list(ipaddress.ip_network(config.vpc_cidr).subnets(prefixlen_diff=2))[:2]
        route_table = bindings.route_table.RouteTable(self, "aws_route_table.private", vpc_id=self.vpc.id)
        subnets = []
        for index, (suffix, cidr) in enumerate(zip(("a", "b"), halves, strict=True)):
            subnet = bindings.subnet.Subnet(
                self,
                f"aws_subnet.private_{suffix}",
                vpc_id=self.vpc.id,
                cidr_block=str(cidr),
                availability_zone=core.Fn.element(zones.names, index),
                map_public_ip_on_launch=False,
            )
            bindings.route_table_association.RouteTableAssociation(
                self,
                f"aws_route_table_association.private_{suffix}",
                subnet_id=subnet.id,
                route_table_id=route_table.id,
            )
            subnets.append(subnet)
        gateways = [
            bindings.vpc_endpoint.VpcEndpoint(
                self,
                f"aws_vpc_endpoint.{service}",
                vpc_id=self.vpc.id,
                service_name=f"com.amazonaws.{region}.{service}",
                vpc_endpoint_type="Gateway",
                route_table_ids=[route_table.id],
            )
            for service in ("dynamodb", "s3")
        ]
        return subnets, [g.prefix_list_id for g in gateways]

    def _interface_endpoint(self, config: StackConfig, region: str, subnets: list[bindings.subnet.Subnet]) -> None:
        """Secrets Manager inside the VPC, reachable from the function's group alone."""
        endpoint_sg = bindings.security_group.SecurityGroup(
            self,
            "aws_security_group.vpc_endpoints",
            name=f"{config.name_prefix}_vpc_endpoints_sg",
            description="HTTPS from the TAP function to interface VPC endpoints",
            vpc_id=self.vpc.id,
            ingress=[
                bindings.security_group.SecurityGroupIngress(
                    description="HTTPS from the TAP function",
                    from_port=443,
                    to_port=443,
                    protocol="tcp",
                    security_groups=[self.function_sg.id],
                )
            ],
            egress=[],
        )
        explicitly_empty(endpoint_sg, "egress")
        bindings.vpc_endpoint.VpcEndpoint(
            self,
            "aws_vpc_endpoint.secretsmanager",
            vpc_id=self.vpc.id,
            service_name=f"com.amazonaws.{region}.secretsmanager",
            vpc_endpoint_type="Interface",
            private_dns_enabled=True,
            subnet_ids=[s.id for s in subnets],
            security_group_ids=[endpoint_sg.id],
        )

    def _flow_logs(self, config: StackConfig, encryption: Encryption) -> None:
        group = encryption.log_group(
            self, "aws_cloudwatch_log_group.vpc_flow_logs", f"/aws/vpc/{config.name_prefix}-flow-logs"
        )
        role = bindings.iam_role.IamRole(
            self,
            "aws_iam_role.vpc_flow_logs",
            name=f"{config.name_prefix}_vpc_flow_logs_role",
            assume_role_policy=assume_role_policy("vpc-flow-logs.amazonaws.com"),
        )
        bindings.iam_role_policy.IamRolePolicy(
            self,
            "aws_iam_role_policy.vpc_flow_logs",
            role=role.id,
            name="write-flow-logs",
            policy=policy_document(
                statement(
                    ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                    [group.arn, f"{group.arn}:*"],
                )
            ),
        )
        bindings.flow_log.FlowLog(
            self,
            "aws_flow_log.main",
            vpc_id=self.vpc.id,
            traffic_type="ALL",
            log_destination_type="cloud-watch-logs",
            log_destination=group.arn,
            iam_role_arn=role.arn,
        )
