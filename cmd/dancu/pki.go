package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/dancu-vn/dancu/internal/server"
)

// pkiCmd manages the Country Signing CA and the Document Signers.
func pkiCmd(getenv env, stdout, stderr io.Writer) *cobra.Command {
	cfg := server.DefaultConfig()
	cmd := &cobra.Command{Use: "pki", Short: "The Country Signing CA and Document Signers of chip cards"}
	storeFlags(cmd, &cfg, getenv)
	cmd.PersistentFlags().AddFlagSet(cmd.Flags())
	open := func(c *cobra.Command) (*server.App, error) {
		app, _, err := openApp(c.Context(), cfg, stderr)
		if err != nil {
			return nil, err
		}
		if err := app.OpenIdentity(cfg); err != nil {
			app.Close()
			return nil, err
		}
		return app, nil
	}
	initCmd := &cobra.Command{Use: "init", Short: "Make the CSCA and a first Document Signer (keys sealed with the data key)", Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			app, err := open(c)
			if err != nil {
				return err
			}
			defer app.Close()
			csca, ds, err := app.PKI.Init(c.Context(), time.Now())
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "CSCA %s (serial %x, until %s)\nDocument Signer %s (serial %x, until %s)\n", csca.Cert.Subject.CommonName, csca.Cert.SerialNumber,
				csca.Cert.NotAfter.Format(time.DateOnly), ds.Cert.Subject.CommonName, ds.Cert.SerialNumber, ds.Cert.NotAfter.Format(time.DateOnly))
			return nil
		}}
	rotate := &cobra.Command{Use: "rotate-ds", Short: "Make a new Document Signer; the old one signs no more cards", Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			app, err := open(c)
			if err != nil {
				return err
			}
			defer app.Close()
			ds, err := app.PKI.RotateDS(c.Context(), time.Now())
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "Document Signer %s (serial %x, until %s) now signs new cards\n", ds.Cert.Subject.CommonName, ds.Cert.SerialNumber, ds.Cert.NotAfter.Format(time.DateOnly))
			return nil
		}}
	var reason, note string
	revoke := &cobra.Command{Use: "revoke-ds SERIAL", Short: "Revoke a Document Signer (on every CRL from now on; the verify service refuses what it signed after now)", Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			app, err := open(c)
			if err != nil {
				return err
			}
			defer app.Close()
			m, err := app.PKI.RevokeDS(c.Context(), args[0], reason, note, time.Now())
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "Document Signer %s revoked (%s); CRL %d issued, next update %s\n", args[0], reason, m.CRLNumber, m.NextUpdate.Format(time.DateOnly))
			if m.RotatedDS != nil {
				fmt.Fprintf(stdout, "it was the active one: Document Signer serial %x now signs new cards\n", m.RotatedDS.SerialNumber)
			}
			return nil
		}}
	revoke.Flags().StringVar(&reason, "reason", "keyCompromise", "RFC 5280 reason: keyCompromise, affiliationChanged, superseded, cessationOfOperation or unspecified")
	revoke.Flags().StringVar(&note, "note", "", "why, for the record")
	maintain := &cobra.Command{Use: "maintain", Short: "Rotate the Document Signer and reissue the CRL when due (serve does this by itself)", Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			app, err := open(c)
			if err != nil {
				return err
			}
			defer app.Close()
			m, err := app.PKI.Maintain(c.Context(), time.Now())
			if err != nil {
				return err
			}
			if m.RotatedDS != nil {
				fmt.Fprintf(stdout, "new Document Signer serial %x\n", m.RotatedDS.SerialNumber)
			}
			if m.CRLNumber != 0 {
				fmt.Fprintf(stdout, "new CRL %d\n", m.CRLNumber)
			}
			fmt.Fprintf(stdout, "CRL next update %s\n", m.NextUpdate.Format(time.RFC3339))
			return nil
		}}
	rotateCSCA := &cobra.Command{Use: "rotate-csca", Short: "Renew the Country Signing CA: a new CSCA, a link certificate from the old one, and a new Document Signer", Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			app, err := open(c)
			if err != nil {
				return err
			}
			defer app.Close()
			next, link, err := app.PKI.RotateCSCA(c.Context(), time.Now())
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "CSCA %s (serial %x, key %x, until %s) now certifies new Document Signers\nlink certificate serial %x from the previous CSCA (until %s)\n",
				next.Cert.Subject.CommonName, next.Cert.SerialNumber, next.Cert.SubjectKeyId, next.Cert.NotAfter.Format(time.DateOnly),
				link.SerialNumber, link.NotAfter.Format(time.DateOnly))
			return nil
		}}
	var mlOut string
	masterList := &cobra.Command{Use: "master-list", Short: "Write the CSCA Master List (CMS SignedData, DER) for relying parties", Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			app, err := open(c)
			if err != nil {
				return err
			}
			defer app.Close()
			der, err := app.PKI.MasterList(c.Context(), time.Now())
			if err != nil {
				return err
			}
			if mlOut == "" || mlOut == "-" {
				_, err = stdout.Write(der)
				return err
			}
			return os.WriteFile(mlOut, der, 0o644)
		}}
	masterList.Flags().StringVarP(&mlOut, "out", "o", "", "file to write (default: standard output)")
	cmd.AddCommand(initCmd, rotate, revoke, maintain, rotateCSCA, masterList)
	return cmd
}
