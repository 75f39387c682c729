using System.Globalization;
using System.Net;
using System.Net.Sockets;
using DinCluster.Cli.Commands;

namespace DinCluster.Cli.Tests.Deployment;

/// <summary>`dincluster health`, the containers' health check: a TCP connect to the node's port.</summary>
public sealed class HealthCommandTests
{
    private static CommandEnvironment Env(params (string Name, string Value)[] vars)
    {
        var map = vars.ToDictionary(v => v.Name, v => v.Value);
        return new CommandEnvironment(map.GetValueOrDefault, () => "127.0.0.1");
    }

    [Fact]
    public void Health_exits_0_when_the_port_from_the_environment_accepts_connections()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        try
        {
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            var log = new StringWriter();
            Assert.Equal(0, HealthCommand.Run(new CliArgs([]), Env((EnvironmentContract.Port, port.ToString(CultureInfo.InvariantCulture))), log));
            Assert.StartsWith("healthy:", log.ToString(), StringComparison.Ordinal);
        }
        finally
        {
            listener.Stop();
        }
    }

    [Fact]
    public void Health_exits_1_when_nothing_listens_on_the_port()
    {
        // A port that was free a moment ago: bind, note it, release.
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var log = new StringWriter();
        Assert.Equal(1, HealthCommand.Run(new CliArgs(["--port", port.ToString(CultureInfo.InvariantCulture)]), Env(), log));
        Assert.StartsWith("unhealthy:", log.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Health_refuses_to_run_when_no_port_is_given()
    {
        var e = Assert.Throws<CliException>(() => HealthCommand.Run(new CliArgs([]), Env(), TextWriter.Null));
        Assert.Equal("--port (or DINCLUSTER_PORT) is required", e.Message);
    }
}
