// RunPlugin for the Node.js language host built from sdk/v3 v3.68.0 (scripts/tools/build-pulumi.sh adds
// this file to the host's package after removing the upstream stub, which answers "not supported").
//
// The CLI (3.248) runs a Node.js policy pack (`pulumi preview --policy-pack DIR`) through the language
// host's RunPlugin: the host starts `node @pulumi/pulumi/cmd/run-plugin <pack dir> <engine address>`
// with the pack's node_modules and streams the plugin's stdout (where the pack's analyzer prints its
// port) and stderr back to the engine. Written for this repository; the behaviour follows what later
// hosts do, so a pack that runs here runs under an official Pulumi CLI too.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/logging"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// The runners of @pulumi/pulumi: cmd/run-policy-pack for a policy pack (args: <engine address>
// <pack dir>, run in the pack's directory, where @pulumi/policy reads its package.json), cmd/run-plugin
// for other plugins (args: <program dir> <args...>, run in the engine's working directory).
const (
	runPolicyPackModule = "@pulumi/pulumi/cmd/run-policy-pack"
	runPluginModule     = "@pulumi/pulumi/cmd/run-plugin"
)

// RunPlugin runs a Node.js plugin program (a policy pack) and streams its output.
func (host *nodeLanguageHost) RunPlugin(
	req *pulumirpc.RunPluginRequest, server pulumirpc.LanguageRuntime_RunPluginServer,
) error {
	dir, err := pluginProgramDirectory(req)
	if err != nil {
		return err
	}
	logging.V(5).Infof("RunPlugin: running the Node.js plugin in %s", dir)

	closer, stdout, stderr, err := rpcutil.MakeRunPluginStreams(server, false)
	if err != nil {
		return err
	}
	defer closer.Close()

	nodeBin, err := exec.LookPath("node")
	if err != nil {
		return fmt.Errorf("RunPlugin: node not found on PATH: %w", err)
	}
	analyzer := pluginKind(req) == "analyzer"
	module := runPluginModule
	if analyzer {
		module = runPolicyPackModule
	}
	runPath, err := resolveModuleFrom(dir, module, nodeBin)
	if err != nil {
		return fmt.Errorf("RunPlugin: %s cannot be resolved from %s (is @pulumi/pulumi installed there?): %w",
			module, dir, err)
	}

	var args []string
	// tied to the request: when the engine is done with the plugin (or cancels), the node process goes too
	cmd := exec.CommandContext(server.Context(), nodeBin)
	if analyzer {
		args = append(append([]string{runPath}, req.GetArgs()...), dir)
		cmd.Dir = dir
	} else {
		args = append([]string{runPath, dir}, req.GetArgs()...)
		cmd.Dir = req.GetPwd()
	}
	cmd.Args = append([]string{nodeBin}, args...)
	cmd.Env = req.GetEnv()
	if len(cmd.Env) == 0 {
		cmd.Env = os.Environ()
	}
	// wrapped writers: exec copies through a goroutine, node's non-blocking stdio never reaches ours
	cmd.Stdout = struct{ io.Writer }{stdout}
	cmd.Stderr = struct{ io.Writer }{stderr}
	if err := cmd.Run(); err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			if status, ok := exit.Sys().(syscall.WaitStatus); ok {
				return fmt.Errorf("plugin exited with non-zero exit code: %d", status.ExitStatus())
			}
			return fmt.Errorf("plugin exited unexpectedly: %w", exit)
		}
		return fmt.Errorf("could not run the plugin program: %w", err)
	}
	return closer.Close()
}

// pluginProgramDirectory is the plugin's program directory: the request's `program` (older engines)
// or its `info.program_directory` (newer engines send the ProgramInfo message, field 5, which this
// host's generated protocol code does not know: it arrives among the unknown fields and is decoded here).
func pluginProgramDirectory(req *pulumirpc.RunPluginRequest) (string, error) {
	if p := req.GetProgram(); p != "" {
		return p, nil
	}
	info := unknownBytesField(req.ProtoReflect().GetUnknown(), 5)
	if info == nil {
		return "", errors.New("RunPlugin: the request names no program (neither program nor info)")
	}
	for _, field := range []protowire.Number{2, 1} { // program_directory, else root_directory
		if d := unknownBytesField(info, field); len(d) > 0 {
			return string(d), nil
		}
	}
	return "", errors.New("RunPlugin: the request's program info has no directory")
}

// pluginKind is the request's `kind` ("analyzer" for a policy pack), field 6 of newer engines' request.
func pluginKind(req *pulumirpc.RunPluginRequest) string {
	return string(unknownBytesField(req.ProtoReflect().GetUnknown(), 6))
}

// unknownBytesField returns the last length-delimited field `num` of the raw message `b`, or nil.
func unknownBytesField(b []byte, num protowire.Number) []byte {
	var found []byte
	for len(b) > 0 {
		n, typ, l := protowire.ConsumeTag(b)
		if l < 0 {
			return found
		}
		b = b[l:]
		if typ == protowire.BytesType && n == num {
			v, m := protowire.ConsumeBytes(b)
			if m < 0 {
				return found
			}
			found, b = v, b[m:]
			continue
		}
		m := protowire.ConsumeFieldValue(n, typ, b)
		if m < 0 {
			return found
		}
		b = b[m:]
	}
	return found
}

// resolveModuleFrom resolves a module the way the plugin's own code would, from its directory upwards.
func resolveModuleFrom(dir, mod, nodeBin string) (string, error) {
	cmd := exec.Command(nodeBin, "-e", "console.log(require.resolve(process.env.PVV_RESOLVE_MODULE, { paths: [process.cwd()] }))")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PVV_RESOLVE_MODULE="+mod)
	out, err := cmd.Output()
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(out)), nil
}
