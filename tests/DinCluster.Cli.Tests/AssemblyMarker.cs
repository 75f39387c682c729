namespace DinCluster.Cli.Tests;
internal static class AssemblyMarker { }
