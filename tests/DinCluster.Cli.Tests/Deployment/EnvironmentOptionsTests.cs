using DinCluster.Cli.Commands;
using DinCluster.Cluster.Configuration;
using DinCluster.Cluster.Hosting;
using DinCluster.Cluster.Protocol;

namespace DinCluster.Cli.Tests.Deployment;

/// <summary>
/// `dincluster node` and `train` take their settings from DINCLUSTER_* variables when the flag is
/// absent, flags win, and a bad value names the variable it came from. The environment is a
/// dictionary (<see cref="CommandEnvironment"/>): the process environment is never touched.
/// </summary>
public sealed class EnvironmentOptionsTests
{
    private const string ContainerAddress = "172.20.0.7";

    private static CommandEnvironment Env(params (string Name, string Value)[] vars)
    {
        var map = vars.ToDictionary(v => v.Name, v => v.Value);
        return new CommandEnvironment(map.GetValueOrDefault, () => ContainerAddress);
    }

    private static NodeOptions Node(CommandEnvironment env, params string[] flags)
    {
        var args = new CliArgs(flags);
        var options = NodeCommand.Options(args, env);
        args.RejectUnknown();
        return options;
    }

    [Fact]
    public void Node_takes_every_setting_from_the_environment_when_no_flag_is_given()
    {
        var options = Node(Env(
            (EnvironmentContract.Role, "worker,ps"),
            (EnvironmentContract.Hostname, "node-a"),
            (EnvironmentContract.Port, "4053"),
            (EnvironmentContract.Seeds, "coordinator:4053, other:4054"),
            (EnvironmentContract.Deployment, "docker"),
            (EnvironmentContract.ClusterConfig, "/etc/dincluster/extra.conf"),
            (EnvironmentContract.Threads, "3")));

        Assert.Equal([NodeRole.Worker, NodeRole.ParameterServer], options.Roles);
        Assert.Equal("node-a", options.Hostname);
        Assert.Equal(4053, options.Port);
        Assert.Equal([new NodeAddress("coordinator", 4053), new NodeAddress("other", 4054)], options.Seeds);
        Assert.Equal(Cluster.Configuration.Deployment.Docker, options.Deployment);
        Assert.Equal("/etc/dincluster/extra.conf", options.ConfigPath);
        Assert.Equal(3, options.TorchThreads);
    }

    [Fact]
    public void Node_flags_override_the_environment_when_both_are_given()
    {
        var env = Env(
            (EnvironmentContract.Role, "worker"),
            (EnvironmentContract.Hostname, "from-env"),
            (EnvironmentContract.PublicHostname, "from-env"),
            (EnvironmentContract.Port, "4053"),
            (EnvironmentContract.Seeds, "env-seed:4053"),
            (EnvironmentContract.Deployment, "docker"),
            (EnvironmentContract.ClusterConfig, "env.conf"),
            (EnvironmentContract.Threads, "3"));

        var options = Node(env, "--role", "data", "--hostname", "from-flag", "--port", "5000", "--seeds", "flag-seed:5000",
            "--deployment", "multiprocess", "--cluster-config", "flag.conf", "--threads", "1");

        Assert.Equal([NodeRole.DataShard], options.Roles);
        Assert.Equal("from-flag", options.Hostname);
        Assert.Equal(5000, options.Port);
        Assert.Equal([new NodeAddress("flag-seed", 5000)], options.Seeds);
        Assert.Equal(Cluster.Configuration.Deployment.MultiProcess, options.Deployment);
        Assert.Equal("flag.conf", options.ConfigPath);
        Assert.Equal(1, options.TorchThreads);
    }

    [Fact]
    public void Node_keeps_its_defaults_when_neither_flag_nor_variable_is_set()
    {
        var options = Node(Env(), "--role", "ps");
        Assert.Equal(0, options.Port);
        Assert.Empty(options.Seeds);
        Assert.Equal(Cluster.Configuration.Deployment.MultiProcess, options.Deployment);
        Assert.Null(options.Hostname); // cluster-config's 127.0.0.1
        Assert.Null(options.ConfigPath);
        Assert.Equal(0, options.TorchThreads);
    }

    [Fact]
    public void Node_treats_an_empty_variable_as_unset_when_compose_leaves_it_blank()
    {
        var options = Node(Env((EnvironmentContract.Role, "worker"), (EnvironmentContract.Port, ""), (EnvironmentContract.Seeds, "")));
        Assert.Equal(0, options.Port);
        Assert.Empty(options.Seeds);
    }

    [Fact]
    public void Node_advertises_the_container_address_when_docker_has_no_hostname_set()
    {
        var options = Node(Env((EnvironmentContract.Role, "worker"), (EnvironmentContract.Deployment, "docker")));
        Assert.Equal(ContainerAddress, options.Hostname);
    }

    [Fact]
    public void Node_advertises_the_public_hostname_when_hostname_is_the_wildcard_bind_address()
    {
        var options = Node(Env((EnvironmentContract.Role, "worker"), (EnvironmentContract.Hostname, "0.0.0.0"),
            (EnvironmentContract.PublicHostname, "worker-1")));
        Assert.Equal("worker-1", options.Hostname);
    }

    [Fact]
    public void Node_refuses_two_different_advertised_names_when_both_hostname_variables_are_set()
    {
        var e = Assert.Throws<CliException>(() => Node(Env((EnvironmentContract.Role, "worker"),
            (EnvironmentContract.Hostname, "a"), (EnvironmentContract.PublicHostname, "b"))));
        Assert.Contains(EnvironmentContract.PublicHostname, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Node_refuses_a_wildcard_advertised_address_when_it_is_the_only_hostname()
    {
        var e = Assert.Throws<CliException>(() => Node(Env((EnvironmentContract.Role, "worker"), (EnvironmentContract.Hostname, "0.0.0.0"))));
        Assert.StartsWith($"{EnvironmentContract.Hostname} is set to '0.0.0.0', must be an address other nodes can reach", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Node_names_the_variable_when_its_value_is_invalid()
    {
        var port = Assert.Throws<CliException>(() => Node(Env((EnvironmentContract.Role, "worker"), (EnvironmentContract.Port, "http"))));
        Assert.Equal("DINCLUSTER_PORT is set to 'http', must be a whole number", port.Message);
        var deployment = Assert.Throws<CliException>(() => Node(Env((EnvironmentContract.Role, "worker"), (EnvironmentContract.Deployment, "k8s"))));
        Assert.Equal("DINCLUSTER_DEPLOYMENT is set to 'k8s', must be multiprocess or docker", deployment.Message);
        var seeds = Assert.Throws<CliException>(() => Node(Env((EnvironmentContract.Role, "worker"), (EnvironmentContract.Seeds, "coordinator"))));
        Assert.StartsWith("DINCLUSTER_SEEDS: ", seeds.Message, StringComparison.Ordinal);
        var role = Assert.Throws<CliException>(() => Node(Env()));
        Assert.Equal("--role (or DINCLUSTER_ROLE) is required", role.Message);
    }

    [Fact]
    public void Train_builds_its_job_and_coordinator_node_from_the_environment_when_no_flag_is_given()
    {
        var env = Env(
            (EnvironmentContract.Data, "/data/synthetic"),
            (EnvironmentContract.Out, "/runs/docker"),
            (EnvironmentContract.Seeds, "coordinator:4053"),
            (EnvironmentContract.Hostname, "coordinator"),
            (EnvironmentContract.Port, "4053"),
            (EnvironmentContract.Deployment, "docker"),
            (EnvironmentContract.Threads, "2"),
            (EnvironmentContract.Workers, "3"),
            (EnvironmentContract.Ps, "1"),
            (EnvironmentContract.DataShards, "1"),
            (EnvironmentContract.Role, "worker")); // not train's: ignored
        var args = new CliArgs([]);
        var options = new CommandOptions("train", args, env);

        var job = TrainCommand.BuildJob(options, TextWriter.Null, defaultShards: 2);
        var shape = TrainCommand.Shape(options);
        var node = TrainCommand.CoordinatorNode(options);
        args.RejectUnknown();

        Assert.Equal("/data/synthetic", job.DataDir);
        Assert.Equal("/runs/docker", job.OutDir);
        Assert.Equal(2, job.TorchThreads);
        Assert.Equal(1, job.PsShards);
        Assert.Equal(3, shape.Workers);
        Assert.Equal(1, shape.DataShards);
        Assert.NotNull(node);
        Assert.Equal([NodeRole.Coordinator], node.Roles);
        Assert.Equal([new NodeAddress("coordinator", 4053)], node.Seeds);
        Assert.Equal("coordinator", node.Hostname);
        Assert.Equal(4053, node.Port);
        Assert.Equal(Cluster.Configuration.Deployment.Docker, node.Deployment);
    }

    [Fact]
    public void Train_flags_override_the_environment_when_both_are_given()
    {
        var env = Env((EnvironmentContract.Data, "/data/env"), (EnvironmentContract.Out, "/runs/env"),
            (EnvironmentContract.Workers, "3"), (EnvironmentContract.Seeds, "env:4053"));
        var args = new CliArgs(["--data", "/data/flag", "--out", "/runs/flag", "--workers", "1", "--seeds", "flag:4053"]);
        var options = new CommandOptions("train", args, env);

        Assert.Equal("/data/flag", TrainCommand.BuildJob(options, TextWriter.Null).DataDir);
        Assert.Equal("/runs/flag", TrainCommand.BuildJob(options, TextWriter.Null).OutDir);
        Assert.Equal(1, TrainCommand.Shape(options).Workers);
        Assert.Equal([new NodeAddress("flag", 4053)], TrainCommand.CoordinatorNode(options)!.Seeds);
    }

    [Fact]
    public void Train_runs_without_a_coordinator_node_when_no_seeds_are_set()
    {
        var options = new CommandOptions("train", new CliArgs(["--data", "d"]), Env((EnvironmentContract.Port, "4053")));
        Assert.Null(TrainCommand.CoordinatorNode(options));
    }
}
