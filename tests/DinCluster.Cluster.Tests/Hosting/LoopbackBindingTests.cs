using System.Globalization;
using DinCluster.Cluster.Configuration;
using DinCluster.Cluster.Hosting;
using DinCluster.Cluster.Protocol;
using Xunit.Abstractions;

namespace DinCluster.Cluster.Tests.Hosting;

/// <summary>Nodes listen on the loopback only, unless the deployment (docker.conf) or the user says otherwise.</summary>
public sealed class LoopbackBindingTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(Deployment.Simulated)]
    [InlineData(Deployment.MultiProcess)]
    public async Task Node_listens_on_loopback_only_when_no_hostname_is_given(Deployment deployment)
    {
        var settings = NodeHost.Settings(new NodeOptions([NodeRole.Worker], 0, [], deployment));
        Assert.Equal("127.0.0.1", settings.Hostname);
        Assert.Equal("", settings.BindHostname);
        Assert.Equal("127.0.0.1", settings.ToAkkaConfig().GetString("akka.remote.dot-netty.tcp.hostname"));

        // A real node (no role actors): its listening socket, as the kernel reports it.
        await using var node = ClusterNode.Start(settings with { Roles = [] }, [], null, new WorkerThreads(1, 0));
        var port = node.Address.Port!.Value;
        var listening = ListeningAddresses(port);
        output.WriteLine($"port {port}: listening on {string.Join(", ", listening)}");
        Assert.NotEmpty(listening);
        Assert.All(listening, a => Assert.True(IsLoopback(a), $"listening on {a}, not loopback"));
    }

    [Fact]
    public void Docker_overlay_binds_every_interface_because_it_is_told_to()
    {
        var settings = NodeHost.Settings(new NodeOptions([NodeRole.Worker], 0, [], Deployment.Docker, Hostname: "worker-1"));
        Assert.Equal("0.0.0.0", settings.ToAkkaConfig().GetString("akka.remote.dot-netty.tcp.hostname"));
        Assert.Equal("worker-1", settings.ToAkkaConfig().GetString("akka.remote.dot-netty.tcp.public-hostname"));
    }

    /// <summary>Local addresses (hex, as in /proc/net/tcp and tcp6) of sockets in LISTEN state on <paramref name="port"/>.</summary>
    private static List<string> ListeningAddresses(int port)
    {
        var found = new List<string>();
        foreach (var file in new[] { "/proc/net/tcp", "/proc/net/tcp6" })
        {
            if (!File.Exists(file)) continue;
            foreach (var line in File.ReadLines(file).Skip(1))
            {
                var cells = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                var local = cells[1].Split(':');
                if (cells[3] == "0A" && int.Parse(local[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture) == port) found.Add(local[0]);
            }
        }
        return found;
    }

    // 127.0.0.1 in /proc's byte order: IPv4 0100007F; IPv6 ::1, or ::ffff:127.0.0.1 (a dual-mode socket).
    private static bool IsLoopback(string hex) => hex is "0100007F" or "00000000000000000000000001000000" or "0000000000000000FFFF00000100007F";
}
