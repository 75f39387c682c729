using Akka.Actor;
using Akka.Event;

namespace DinCluster.Cluster.Hosting;

/// <summary>
/// Drops what Akka.Remote logs when a job's nodes leave together and their connections close in
/// any order, so a normal run does not end with alarming lines:
/// <list type="bullet">
/// <item>the ERROR "Disassociated" (cause EndpointDisassociatedException) of an endpoint writer that
/// finds its peer's connection closed before the peer's shutdown notice was read; the same event is
/// also logged as the WARNING "Association with remote system ... has failed; address is now gated",
/// which <see cref="DisassociatedPeer"/> names, so <see cref="Observability.NodeLogger"/> can drop it
/// too when the peer had left the cluster (a live member's closed connection is kept);</item>
/// <item>DotNetty's WARNING "Unable to REMOVE channel ... from connection group. May not shut down
/// cleanly.", logged when a connection closes after its transport began shutting down.</item>
/// </list>
/// A real loss of a node is still logged: UNREACHABLE by the cluster, and by the split-brain resolver.
/// </summary>
internal sealed class ShutdownNoiseFilter : LogFilterBase
{
    public static readonly LogFilterSetup Setup = new([new ShutdownNoiseFilter()]);

    // Content, though only the event is looked at: with Source filters only, Akka 1.5 prints the bare
    // message without the [LEVEL][time][thread][source] prefix (LogFilterEvaluator's fast path).
    public override LogFilterType FilterType => LogFilterType.Content;

    public override LogFilterDecision ShouldKeepMessage(LogEvent content, string? expandedMessage = null) =>
        Keeps(content) ? LogFilterDecision.Keep : LogFilterDecision.Drop;

    /// <summary>The same decision for loggers that read the event stream themselves (NodeLogger).</summary>
    public static bool Keeps(LogEvent content) => content switch
    {
        Error { Cause: { } cause } => !IsDisassociation(cause),
        Warning { Message: { } message } => message.ToString()?.Contains(ChannelGroupRace, StringComparison.Ordinal) != true,
        _ => true,
    };

    private const string ChannelGroupRace = "from connection group. May not shut down cleanly.";

    /// <summary>
    /// The peer of a WARNING "Association with remote system PEER has failed; address is now gated"
    /// whose reason is a closed connection (EndpointDisassociatedException); null for any other event.
    /// </summary>
    public static Address? DisassociatedPeer(LogEvent content) =>
        content is Warning { Message: LogMessage message } && message.Parameters().ToArray() is var args
        && args.Any(a => a is Exception e && IsDisassociation(e))
            ? args.OfType<Address>().FirstOrDefault()
            : null;

    private static bool IsDisassociation(Exception e) => e.GetType().Name == "EndpointDisassociatedException";
}
