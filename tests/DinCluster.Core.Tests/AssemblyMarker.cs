namespace DinCluster.Core.Tests;
internal static class AssemblyMarker { }
