using System.Globalization;
using System.Net;
using System.Net.Sockets;
using DinCluster.Cluster.Configuration;

namespace DinCluster.Cli;

/// <summary>
/// What a command reads besides its flags: environment variables, and the machine's own address
/// (a container's, under --deployment docker). Injectable, so tests pass a dictionary instead of
/// touching the process environment.
/// </summary>
public sealed record CommandEnvironment(Func<string, string?> Variable, Func<string> LocalAddress)
{
    public static CommandEnvironment Process { get; } = new(Environment.GetEnvironmentVariable, DetectLocalAddress);

    /// <summary>
    /// The first non-loopback IPv4 address this host's name resolves to (in a container: the address
    /// /etc/hosts gives the container on its network), else the host name itself.
    /// </summary>
    public static string DetectLocalAddress()
    {
        var host = Dns.GetHostName();
        try
        {
            var address = Dns.GetHostAddresses(host)
                .FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(a));
            return address?.ToString() ?? host;
        }
        catch (SocketException)
        {
            return host;
        }
    }
}

/// <summary>
/// A command's options: the flag, else the DINCLUSTER_* variable that <see cref="EnvironmentContract"/>
/// pairs with it for this command. Error messages name whichever of the two the value came from.
/// </summary>
public sealed class CommandOptions(string command, CliArgs args, CommandEnvironment environment)
{
    public CliArgs Args => args;

    /// <summary>The value and where it came from ("--port" or "DINCLUSTER_PORT"), or null when neither is set.</summary>
    public (string Value, string Source)? Lookup(string flag)
    {
        if (args.Get(flag) is { } v) return (v, "--" + flag);
        return EnvironmentContract.ForFlag(command, flag) is { } variable && Variable(variable.Name) is { } e
            ? (e, variable.Name)
            : null;
    }

    public string? Get(string flag) => Lookup(flag)?.Value;

    public string Get(string flag, string fallback) => Get(flag) ?? fallback;

    public string Require(string flag) => Get(flag) ?? throw new CliException(
        EnvironmentContract.ForFlag(command, flag) is { } variable ? $"--{flag} (or {variable.Name}) is required" : $"--{flag} is required");

    public int Int(string flag, int fallback)
    {
        if (Lookup(flag) is not { } found) return fallback;
        var (v, source) = found;
        return int.TryParse(v.Replace("_", ""), NumberStyles.Integer, CultureInfo.InvariantCulture, out var x)
            ? x
            : throw new CliException($"{source} is set to '{v}', must be a whole number");
    }

    /// <summary>--metrics-port / DINCLUSTER_METRICS_PORT: null = no metrics endpoint.</summary>
    public int? MetricsPort()
    {
        if (Lookup("metrics-port") is not { } found) return null;
        var port = Int("metrics-port", 0);
        return port is >= 0 and <= 65535 ? port : throw new CliException($"{found.Source} is set to {port}, must be in 0..65535 (0 = any free port)");
    }

    /// <summary>Starts the process's metrics endpoint when a port is set; prints where it is.</summary>
    public static Cluster.Observability.MetricsServer? StartMetrics(int? port, TextWriter log)
    {
        if (port is not { } p) return null;
        try
        {
            var server = Cluster.Observability.MetricsServer.Start(p);
            log.WriteLine($"metrics: http://0.0.0.0:{server.Port}/metrics (Prometheus text format)");
            return server;
        }
        catch (InvalidOperationException e)
        {
            throw new CliException(e.Message);
        }
    }

    /// <summary>An environment variable; empty counts as unset (compose writes `X: ""` for a blank).</summary>
    public string? Variable(string name) => environment.Variable(name) is { Length: > 0 } v ? v.Trim() : null;

    /// <summary>--deployment / DINCLUSTER_DEPLOYMENT, default multiprocess.</summary>
    public Deployment ReadDeployment()
    {
        if (Lookup("deployment") is not { } found) return Deployment.MultiProcess;
        var (v, source) = found;
        return v switch
        {
            "multiprocess" => Deployment.MultiProcess,
            "docker" => Deployment.Docker,
            _ => throw new CliException($"{source} is set to '{v}', must be multiprocess or docker"),
        };
    }

    /// <summary>--seeds / DINCLUSTER_SEEDS as addresses; null when neither is set.</summary>
    public IReadOnlyList<NodeAddress>? Seeds()
    {
        if (Lookup("seeds") is not { } found) return null;
        var (v, source) = found;
        try
        {
            return v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(NodeAddress.Parse).ToList();
        }
        catch (FormatException e)
        {
            throw new CliException($"{source}: {e.Message}");
        }
    }

    /// <summary>
    /// The address other nodes reach this node at, first set of: --hostname, DINCLUSTER_PUBLIC_HOSTNAME,
    /// DINCLUSTER_HOSTNAME, and under docker the container's own IPv4 address (so scaled replicas,
    /// which share a service name, stay distinct). Null = cluster-config's dincluster.node.hostname.
    /// Our HOCON has one advertised name (rendered into Akka's public-hostname) and binds the socket
    /// at dincluster.node.bind-hostname (0.0.0.0 under docker), so the Akka-style pair
    /// HOSTNAME=0.0.0.0 + PUBLIC_HOSTNAME=name is accepted; two different real names are refused.
    /// </summary>
    public string? Hostname(Deployment deployment)
    {
        if (args.Get("hostname") is { } flag) return Advertisable(flag, "--hostname");
        var pub = Variable(EnvironmentContract.PublicHostname);
        var host = Variable(EnvironmentContract.Hostname);
        if (pub is not null && host is not null && host != pub && !IsWildcard(host))
            throw new CliException($"{EnvironmentContract.Hostname} is set to '{host}' and {EnvironmentContract.PublicHostname} to '{pub}': " +
                "a node has one advertised address (the bind address is cluster-config's dincluster.node.bind-hostname); set one of them");
        if (pub is not null) return Advertisable(pub, EnvironmentContract.PublicHostname);
        if (host is not null) return Advertisable(host, EnvironmentContract.Hostname);
        return deployment == Deployment.Docker ? environment.LocalAddress() : null;
    }

    private static string Advertisable(string value, string source) => IsWildcard(value)
        ? throw new CliException($"{source} is set to '{value}', must be an address other nodes can reach " +
            "(the socket's bind address is cluster-config's dincluster.node.bind-hostname; docker.conf binds 0.0.0.0)")
        : value;

    private static bool IsWildcard(string host) => host is "0.0.0.0" or "::" or "[::]" or "*";
}
