using System.Globalization;
using Akka.Actor;
using Akka.Actor.Setup;
using Akka.Cluster;
using Akka.Dispatch;
using Akka.Event;
using DinCluster.Cluster.Hosting;

namespace DinCluster.Cluster.Observability;

/// <summary>Where <see cref="NodeLogger"/> writes (default: the console); given to an ActorSystem as a setup.</summary>
public sealed class NodeLogSetup(TextWriter writer) : Setup
{
    public TextWriter Writer { get; } = writer;
}

/// <summary>
/// The Akka logger of every DinCluster node (cluster-config: akka.loggers). Each line keeps Akka's
/// bracketed fields and adds the node's address and roles, so lines of many nodes (one process in
/// the simulated cluster, or gathered logs) say whose they are:
/// <code>
///   [INFO][2026-11-28T13:40:00.123Z][node 127.0.0.1:4053 worker][akka://DinCluster/user/worker-0] worker 0 ready ...
///   level  UTC timestamp             node address + roles          log source                          message
/// </code>
/// </summary>
public sealed class NodeLogger : ReceiveActor, IRequiresMessageQueue<ILoggerMessageQueueSemantics>
{
    private readonly TextWriter _out;
    private string? _node;

    public NodeLogger()
    {
        _out = Context.System.Settings.Setup.Get<NodeLogSetup>() is { HasValue: true } setup ? setup.Value.Writer : Console.Out;
        Receive<InitializeLogger>(_ => Sender.Tell(new LoggerInitialized()));
        Receive<LogEvent>(e =>
        {
            if (!ShutdownNoiseFilter.Keeps(e) || PeerLeft(ShutdownNoiseFilter.DisassociatedPeer(e))) return;
            var line = Format(e, NodeLabel());
            lock (_out) _out.WriteLine(line);
        });
    }

    /// <summary>
    /// A closed connection to a node that had left the cluster (or this node is shutting down): the
    /// normal end of a job, where nodes leave together, not news. A live member's closed connection
    /// is kept (and a killed node shows up as UNREACHABLE anyway).
    /// </summary>
    private bool PeerLeft(Address? peer)
    {
        if (peer is null) return false;
        var system = Context.System;
        if (CoordinatedShutdown.Get(system).ShutdownReason is not null) return true;
        if (((ExtendedActorSystem)system).Provider is not ClusterActorRefProvider) return false;
        var member = Akka.Cluster.Cluster.Get(system).State.Members.FirstOrDefault(m => m.Address.Equals(peer));
        return member is null || member.Status is not (MemberStatus.Up or MemberStatus.Joining or MemberStatus.WeaklyUp);
    }

    /// <summary>"node HOST:PORT ROLES"; resolved once remoting has its address.</summary>
    private string NodeLabel()
    {
        if (_node is not null) return _node;
        var system = (ExtendedActorSystem)Context.System;
        // Null until remoting has started: the first lines of a starting node name the configured
        // address ("host:?" when its port is chosen at bind time).
        var address = system.Provider.DefaultAddress;
        var config = system.Settings.Config;
        var roles = config.GetStringList("akka.cluster.roles", []);
        var configured = config.GetString("akka.remote.dot-netty.tcp.public-hostname", "") is { Length: > 0 } host
            ? $"{host}:{(config.GetInt("akka.remote.dot-netty.tcp.port", 0) is > 0 and var port ? port.ToString(CultureInfo.InvariantCulture) : "?")}"
            : system.Name;
        var label = $"node {(address?.Host is { } h ? $"{h}:{address.Port}" : configured)} {(roles.Count == 0 ? "-" : string.Join(',', roles))}";
        if (address?.Host is not null) _node = label;
        return label;
    }

    /// <summary>One log line: [LEVEL][UTC time][node][source] message (and the cause of an error).</summary>
    public static string Format(LogEvent e, string node)
    {
        var level = e.LogLevel() switch
        {
            LogLevel.DebugLevel => "DEBUG",
            LogLevel.InfoLevel => "INFO",
            LogLevel.WarningLevel => "WARNING",
            _ => "ERROR",
        };
        var time = e.Timestamp.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
        var message = e is not Error && e.Message is LogMessage lm ? WithoutStacks(lm) : e.Message?.ToString() ?? "";
        var cause = e is Error { Cause: { } c } ? $"{Environment.NewLine}Cause: {c}" : "";
        return $"[{level}][{time}][{node}][{e.LogSource}] {message}{cause}";
    }

    /// <summary>A warning or info names an exception by type and message; only errors print its stack (as Cause).</summary>
    private static string WithoutStacks(LogMessage message)
    {
        var args = message.Parameters().ToArray();
        if (!args.Any(a => a is Exception)) return message.ToString() ?? "";
        try
        {
            return string.Format(CultureInfo.InvariantCulture, message.Format,
                args.Select(a => a is Exception ex ? $"{ex.GetType().FullName}: {ex.Message}" : a).ToArray());
        }
        catch (FormatException)
        {
            return message.ToString() ?? "";
        }
    }
}
