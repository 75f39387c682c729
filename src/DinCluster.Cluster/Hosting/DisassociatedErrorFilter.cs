using Akka.Event;

namespace DinCluster.Cluster.Hosting;

/// <summary>
/// Drops the ERROR "Disassociated" (cause EndpointDisassociatedException) that Akka.Remote logs when
/// an endpoint writer finds its peer's connection closed. When a job ends its nodes leave together,
/// and a peer's socket can close before its shutdown notice is read, so a normal run would end with
/// such ERROR lines. Nothing is lost: the same event is logged as the WARNING "Association with
/// remote system ... has failed; address is now gated", and a real loss of a node as UNREACHABLE
/// and by the split-brain resolver.
/// </summary>
internal sealed class DisassociatedErrorFilter : LogFilterBase
{
    public static readonly LogFilterSetup Setup = new([new DisassociatedErrorFilter()]);

    // Content, though only the event is looked at: with Source filters only, Akka 1.5 prints the bare
    // message without the [LEVEL][time][thread][source] prefix (LogFilterEvaluator's fast path).
    public override LogFilterType FilterType => LogFilterType.Content;

    public override LogFilterDecision ShouldKeepMessage(LogEvent content, string? expandedMessage = null) =>
        Keeps(content) ? LogFilterDecision.Keep : LogFilterDecision.Drop;

    /// <summary>The same decision for loggers that read the event stream themselves (NodeLogger).</summary>
    public static bool Keeps(LogEvent content) =>
        content is not Error { Cause: { } cause } || cause.GetType().Name != "EndpointDisassociatedException";
}
