/** The takeover suite's program as a file program: Vault's address and token from stack config (the token a secret). */
import * as pulumi from "@pulumi/pulumi";
import { takeoverProgram } from "./program";

const config = new pulumi.Config();
takeoverProgram(config.require("address"), config.requireSecret("token"));
