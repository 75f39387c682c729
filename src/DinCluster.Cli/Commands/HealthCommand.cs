using System.Net.Sockets;

namespace DinCluster.Cli.Commands;

/// <summary>
/// `dincluster health`: exit 0 when a TCP connection to the node's Akka port succeeds, else 1.
/// The container health check (docker-compose.yml): it needs nothing the image does not have.
/// </summary>
public static class HealthCommand
{
    public const string Help = """
        dincluster health [--port P] [--host H] [--timeout SECONDS]

          --port P         the node's Akka port (default: DINCLUSTER_PORT)
          --host H         where to connect (default 127.0.0.1; the docker overlay binds every interface)
          --timeout S      seconds to wait for the connection (default 3)

        Exits 0 when the port accepts a TCP connection (the node's remoting is listening), else 1.
        """;

    public static int Run(CliArgs args) => Run(args, CommandEnvironment.Process, Console.Out);

    public static int Run(CliArgs args, CommandEnvironment environment, TextWriter log)
    {
        var o = new CommandOptions("health", args, environment);
        var port = o.Int("port", -1);
        if (port is < 1 or > 65535)
            throw new CliException(port == -1
                ? $"--port (or {EnvironmentContract.Port}) is required"
                : $"{o.Lookup("port")!.Value.Source} is set to {port}, must be in 1..65535");
        var host = args.Get("host", "127.0.0.1");
        var timeout = TimeSpan.FromSeconds(args.Double("timeout", 3));
        args.RejectUnknown();
        try
        {
            using var client = new TcpClient();
            using var cancel = new CancellationTokenSource(timeout);
            client.ConnectAsync(host, port, cancel.Token).AsTask().GetAwaiter().GetResult();
            log.WriteLine($"healthy: {host}:{port} accepts connections");
            return 0;
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            log.WriteLine($"unhealthy: {host}:{port}: {(e is OperationCanceledException ? $"no connection within {timeout.TotalSeconds:0.#}s" : e.Message)}");
            return 1;
        }
    }
}
